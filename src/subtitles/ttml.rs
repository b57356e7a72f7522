//! TTML and DFXP (`.ttml`, `.dfxp`, `.xml`), including IMSC and Apple iTT (`.itt`). Read only.
//!
//! Contract: the document is parsed as XML (roxmltree). Every `<p>` with timing is a cue; a `<p>`
//! with none is dropped and its line noted ([`FixKind::DroppedUntimed`]). Times are clock times
//! (`00:00:01.500`, or `00:00:01:12` in frames at `ttp:frameRate` × `ttp:frameRateMultiplier`)
//! or offsets (`1.5s`, `1500ms`, `2m`, `1h`, `90f`, `20000t` at `ttp:tickRate`). `begin` is relative to the enclosing `<body>`/`<div>`'s
//! begin (parallel time containers); `end` too; `dur` to the element's own begin; an element
//! without an end takes its container's. `<br/>` is a line break, `<span>` text is kept, other
//! whitespace collapses; `ttm:agent` (on the `<p>`, a `<span>` or a container), resolved to its
//! `<ttm:agent>`'s `<ttm:name>` when the head declares one, is the cue's speaker.

use roxmltree::{Document, Node};

use super::{Cue, Fix, FixKind, ParseError};
use crate::segment::{MAX_MEDIA_MS, Segment, turns};

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// The timing parameters of the document (`ttp:` attributes on `<tt>`).
struct Rates {
    /// Frames per second, multiplier applied.
    frame_rate: f64,
    tick_rate: f64,
}

fn local_attr<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    node.attributes()
        .find(|a| a.name() == name)
        .map(|a| a.value())
}

fn number(s: &str) -> Option<f64> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)
}

impl Rates {
    fn of(tt: Node) -> Rates {
        let base = local_attr(tt, "frameRate")
            .and_then(number)
            .filter(|r| *r > 0.0);
        let multiplier = local_attr(tt, "frameRateMultiplier")
            .and_then(|m| {
                let mut parts = m.split_whitespace().map(number);
                match (parts.next()??, parts.next()??) {
                    (n, d) if d > 0.0 && n > 0.0 => Some(n / d),
                    _ => None,
                }
            })
            .unwrap_or(1.0);
        let frame_rate = base.unwrap_or(30.0) * multiplier;
        let sub_frames = local_attr(tt, "subFrameRate")
            .and_then(number)
            .unwrap_or(1.0);
        let tick_rate = local_attr(tt, "tickRate")
            .and_then(number)
            .filter(|r| *r > 0.0)
            .unwrap_or(match base {
                Some(_) => frame_rate * sub_frames.max(1.0),
                None => 1.0,
            });
        Rates {
            frame_rate,
            tick_rate,
        }
    }

    /// A TTML time expression in milliseconds.
    fn parse(&self, expr: &str) -> Result<u64, String> {
        let s = expr.trim();
        let bad = || {
            format!(
                "invalid time `{s}`: expected a clock time like `00:00:01.500` or `00:00:01:12`, or an offset like `1.5s`, `1500ms`, `90f` or `20000t`"
            )
        };
        let secs = if s.contains(':') {
            let parts: Vec<&str> = s.split(':').collect();
            let int = |p: &str| {
                (!p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| p.parse::<f64>().ok())
                    .flatten()
            };
            match parts[..] {
                // `m:ss.fff`, as Apple iTT writes a duration.
                [m, sec] => {
                    let (whole, _) = sec.split_once('.').unwrap_or((sec, "0"));
                    int(whole).ok_or_else(bad)?;
                    int(m).ok_or_else(bad)? * 60.0 + number(sec).ok_or_else(bad)?
                }
                [h, m, sec] => {
                    let (whole, _) = sec.split_once('.').unwrap_or((sec, "0"));
                    int(whole).ok_or_else(bad)?;
                    int(h).ok_or_else(bad)? * 3600.0
                        + int(m).ok_or_else(bad)? * 60.0
                        + number(sec).ok_or_else(bad)?
                }
                [h, m, sec, frames] => {
                    int(h).ok_or_else(bad)? * 3600.0
                        + int(m).ok_or_else(bad)? * 60.0
                        + int(sec).ok_or_else(bad)?
                        + number(frames).ok_or_else(bad)? / self.frame_rate
                }
                _ => return Err(bad()),
            }
        } else {
            // A bare number is seconds (Apple iTT writes `begin="19.764"`).
            let split = s
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(s.len());
            let value = number(&s[..split]).ok_or_else(bad)?;
            match &s[split..] {
                "" => value,
                "h" => value * 3600.0,
                "m" => value * 60.0,
                "s" => value,
                "ms" => value / 1000.0,
                "f" => value / self.frame_rate,
                "t" => value / self.tick_rate,
                _ => return Err(bad()),
            }
        };
        let ms = (secs * 1000.0).round();
        if !(0.0..=MAX_MEDIA_MS as f64).contains(&ms) {
            return Err(format!("invalid time `{s}`: longer than any video"));
        }
        Ok(ms as u64)
    }
}

struct Reader<'a, 'input> {
    doc: &'a Document<'input>,
    rates: Rates,
    /// Times are from the start of the media, not from the parent's begin: Apple iTT writes a
    /// `<p>`'s own times inside a `<div>` that begins at the same moment.
    absolute: bool,
    cues: Vec<Cue>,
    notes: Vec<Fix>,
}

impl Reader<'_, '_> {
    fn line(&self, node: Node) -> usize {
        self.doc.text_pos_at(node.range().start).row as usize
    }

    fn time(&self, node: Node, attr: &str) -> Result<Option<u64>, ParseError> {
        local_attr(node, attr)
            .map(|v| self.rates.parse(v))
            .transpose()
            .map_err(|m| ParseError::new(self.line(node), m))
    }

    /// Walk a container (`body`, `div`) or a `p`, with its container's begin, end and agent.
    fn walk(
        &mut self,
        node: Node,
        parent_begin: u64,
        parent_end: Option<u64>,
        agent: Option<&str>,
    ) -> Result<(), ParseError> {
        let own_begin = self.time(node, "begin")?;
        let offset = if self.absolute { 0 } else { parent_begin };
        let begin = match own_begin {
            Some(own) => offset + own,
            None => parent_begin,
        };
        let end = match (self.time(node, "end")?, self.time(node, "dur")?) {
            (Some(end), _) => Some(offset + end),
            (None, Some(dur)) => Some(begin + dur),
            (None, None) => parent_end,
        };
        let agent = local_attr(node, "agent").or(agent);
        if node.tag_name().name() == "p" {
            let timed = own_begin.is_some() || end.is_some();
            if !timed {
                let line = self.line(node);
                self.notes.push(Fix {
                    line,
                    kind: FixKind::DroppedUntimed,
                });
                return Ok(());
            }
            let mut span_agent = None;
            let mut text = String::new();
            collect_text(node, &mut text, &mut span_agent);
            let agent = agent.or(span_agent);
            let speaker = agent.and_then(|a| self.agent_name(a));
            self.cues.push(Cue {
                line: self.line(node),
                segment: Segment::new(begin, end.unwrap_or(begin), tidy(&text))
                    .with_speaker(speaker),
            });
            return Ok(());
        }
        for child in node.children().filter(Node::is_element) {
            if matches!(child.tag_name().name(), "div" | "p") {
                self.walk(child, begin, end, agent)?;
            }
        }
        Ok(())
    }

    /// The name of the agent an IDREF names: its `<ttm:name>`, else the id itself.
    fn agent_name(&self, idrefs: &str) -> Option<String> {
        let id = idrefs.split_whitespace().next()?;
        let declared = self
            .doc
            .descendants()
            .find(|n| n.tag_name().name() == "agent" && n.attribute((XML_NS, "id")) == Some(id));
        let name = declared
            .and_then(|a| a.children().find(|n| n.tag_name().name() == "name"))
            .and_then(|n| n.text())
            .map(str::trim)
            .filter(|n| !n.is_empty());
        turns::clean_name(name.unwrap_or(id))
    }
}

/// The text of a `p`: text nodes, `span`s, `br` as a line break; the first span's agent.
fn collect_text<'a>(node: Node<'a, '_>, out: &mut String, agent: &mut Option<&'a str>) {
    for child in node.children() {
        if child.is_text() {
            out.push_str(child.text().unwrap_or(""));
        } else if child.is_element() {
            match child.tag_name().name() {
                "br" => out.push('\n'),
                "span" => {
                    if agent.is_none() {
                        *agent = local_attr(child, "agent");
                    }
                    collect_text(child, out, agent);
                }
                _ => {} // metadata, animations, images: not shown text
            }
        }
    }
}

/// Collapse XML whitespace within each line; drop empty lines.
fn tidy(text: &str) -> String {
    let lines: Vec<String> = text
        .split('\n')
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("\n")
}

/// Parse XML as TTML files come: a DOCTYPE (some DFXP files have one) is allowed, its entities
/// bounded by roxmltree's limits.
pub fn parse_xml(content: &str) -> Result<Document<'_>, roxmltree::Error> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    Document::parse_with_options(content, options)
}

/// Parse TTML text: the cues, and a note for each `<p>` dropped for want of timing.
pub fn parse(content: &str) -> Result<(Vec<Cue>, Vec<Fix>), ParseError> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let doc = parse_xml(content).map_err(|e| {
        ParseError::new(
            e.pos().row as usize,
            format!("expected well-formed XML (TTML): {e}"),
        )
    })?;
    let tt = doc.root_element();
    if tt.tag_name().name() != "tt" {
        return Err(ParseError::new(
            doc.text_pos_at(tt.range().start).row as usize,
            format!(
                "expected a TTML document with a <tt> root, found <{}>",
                tt.tag_name().name()
            ),
        ));
    }
    let apple = tt
        .namespaces()
        .any(|ns| ns.uri().starts_with("http://music.apple.com/"));
    let mut reader = Reader {
        doc: &doc,
        rates: Rates::of(tt),
        absolute: apple,
        cues: Vec::new(),
        notes: Vec::new(),
    };
    if let Some(body) = tt.children().find(|n| n.tag_name().name() == "body") {
        reader.walk(body, 0, None, None)?;
    }
    Ok((reader.cues, reader.notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_expressions() {
        let rates = Rates {
            frame_rate: 25.0,
            tick_rate: 10_000_000.0,
        };
        assert_eq!(rates.parse("00:00:01.500"), Ok(1500));
        assert_eq!(rates.parse("01:02:03"), Ok(3_723_000));
        assert_eq!(rates.parse("00:00:01:12"), Ok(1480));
        assert_eq!(rates.parse("1.5s"), Ok(1500));
        assert_eq!(rates.parse("1500ms"), Ok(1500));
        assert_eq!(rates.parse("2m"), Ok(120_000));
        assert_eq!(rates.parse("50f"), Ok(2000));
        assert_eq!(rates.parse("25000000t"), Ok(2500));
        // Apple iTT: `m:ss.fff`, and bare seconds.
        assert_eq!(rates.parse("3:58.640"), Ok(238_640));
        assert_eq!(rates.parse("19.764"), Ok(19_764));
        for bad in ["1.5x", "abc", "00:0a:01", "s", "1:2:3:4:5", "-1s"] {
            assert!(rates.parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn apple_itt_times_are_from_the_start_of_the_media() {
        let doc = r#"<tt xmlns="http://www.w3.org/ns/ttml" xmlns:itunes="http://music.apple.com/lyric-ttml-internal">
<body dur="3:58.640"><div begin="19.764" end="59.300">
<p begin="19.764" end="21.900"><span begin="19.764" end="20.105">When</span> <span>you were here</span></p>
</div></body></tt>"#;
        let (cues, _) = parse(doc).unwrap();
        assert_eq!(cues.len(), 1);
        assert_eq!(
            (cues[0].segment.start_ms, cues[0].segment.end_ms),
            (19_764, 21_900)
        );
        // Plain TTML adds the div's begin.
        let plain = doc.replace(
            r#" xmlns:itunes="http://music.apple.com/lyric-ttml-internal""#,
            "",
        );
        let (cues, _) = parse(&plain).unwrap();
        assert_eq!(cues[0].segment.start_ms, 39_528);
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse("<tt>\n<body>\n<p begin=\"1s\" end=\"2q\">x</p></body></tt>").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("`2q`"), "{}", err.message);
        let err = parse("<tt>\n<body>\n<p>x</body></tt>").unwrap_err();
        assert_eq!(err.line, 3);
        assert_eq!(parse("<html/>").unwrap_err().line, 1);
        let with_doctype = "<?xml version=\"1.0\"?>\n<!DOCTYPE tt>\n<tt><body><p begin=\"1s\" end=\"2s\">x</p></body></tt>";
        assert_eq!(parse(with_doctype).unwrap().0.len(), 1);
    }
}
