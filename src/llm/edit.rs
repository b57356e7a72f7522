//! The operations on subtitle lines: polish, translate, shorten.
//!
//! Lines go to the model in batches of [`EditOptions::batch_lines`], each line tagged with its
//! 1-based segment number as `id`, with a few neighbouring lines as read-only context so pronouns
//! and half sentences that continue across lines come out right. A reply must give back exactly the
//! ids it got, in order, so line count, order and every segment's window are kept by construction:
//! only `text` changes. Lines with nothing to speak are not sent and stay as they are.
//!
//! Markup (`<i>`, `{\an8}`, line breaks) is not sent: the model sees and returns the spoken text.

use futures_util::future::{join_all, try_join_all};
use serde::Serialize;

use super::reply::{parse_lines, parse_text_field};
use super::{ChatMessage, ChatModel, Glossary, LlmError, ReplyCache, ask_validated};
use crate::Segment;

/// How lines are batched and how often an invalid reply is asked again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditOptions {
    /// Lines rewritten per request.
    pub batch_lines: usize,
    /// Neighbouring lines sent on each side of a batch as context.
    pub context_lines: usize,
    /// Replies asked for per request before giving up (the first one included).
    pub max_tries: usize,
}

impl Default for EditOptions {
    fn default() -> Self {
        Self {
            batch_lines: 20,
            context_lines: 3,
            max_tries: 3,
        }
    }
}

/// What to translate into, from what, with which fixed terms.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Translation {
    /// Target language, as a name or code the model understands ("French", "pt-BR").
    pub target_language: String,
    /// Source language, when known; otherwise the model detects it.
    pub source_language: Option<String>,
    /// Terms to render exactly as given.
    pub glossary: Glossary,
}

/// Rough token counts of an operation, for cost estimates before anything is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenEstimate {
    pub input: u64,
    pub output: u64,
}

/// Characters per token assumed by estimates (OpenAI's rule of thumb for English).
pub const CHARS_PER_TOKEN: u64 = 4;
/// Tokens each chat message costs beyond its text (role and separators).
const TOKENS_PER_MESSAGE: u64 = 4;

const POLISH_PROMPT: &str = "You edit subtitle lines that a voice-over will speak. Fix grammar, \
spelling, punctuation and fluency so that each line reads naturally aloud. Keep the meaning, the \
language, the register and about the same length. Never merge, split, add, drop or reorder lines: \
return exactly one line for every id you were given. The lines in context_before and \
context_after are only context: do not return them. Answer with only a JSON object of the form \
{\"lines\": [{\"id\": <id>, \"text\": \"<edited line>\"}]} with the same ids in the same order.";

/// One request's worth of lines.
#[derive(Debug, Serialize)]
struct Batch {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    context_before: Vec<String>,
    lines: Vec<BatchLine>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    context_after: Vec<String>,
}

#[derive(Debug, Serialize)]
struct BatchLine {
    id: usize,
    text: String,
}

impl Batch {
    fn ids(&self) -> Vec<usize> {
        self.lines.iter().map(|l| l.id).collect()
    }

    fn label(&self, operation: &str) -> String {
        match (self.lines.first(), self.lines.last()) {
            (Some(first), Some(last)) => format!("{operation} of lines {}-{}", first.id, last.id),
            _ => operation.to_string(),
        }
    }

    fn user_message(&self) -> String {
        // Serialising plain strings and numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The batches for `segments`: spoken lines only, ids = 1-based segment numbers.
fn batches(segments: &[Segment], options: &EditOptions) -> Vec<Batch> {
    let spoken: Vec<(usize, String)> = segments
        .iter()
        .enumerate()
        .map(|(i, s)| (i + 1, s.spoken_text()))
        .filter(|(_, t)| !t.is_empty())
        .collect();
    let size = options.batch_lines.max(1);
    let mut out = Vec::new();
    for start in (0..spoken.len()).step_by(size) {
        let end = (start + size).min(spoken.len());
        let before = start.saturating_sub(options.context_lines);
        let after = (end + options.context_lines).min(spoken.len());
        out.push(Batch {
            context_before: spoken[before..start]
                .iter()
                .map(|(_, t)| t.clone())
                .collect(),
            lines: spoken[start..end]
                .iter()
                .map(|(id, t)| BatchLine {
                    id: *id,
                    text: t.clone(),
                })
                .collect(),
            context_after: spoken[end..after].iter().map(|(_, t)| t.clone()).collect(),
        });
    }
    out
}

fn translate_prompt(translation: &Translation, batch: &Batch) -> String {
    let from = match &translation.source_language {
        Some(source) => format!("from {source} "),
        None => String::new(),
    };
    let mut prompt = format!(
        "You translate subtitle lines {from}into {target} for a voice-over. Translate each line \
         naturally and idiomatically, as it would be spoken, keeping the meaning and about the same \
         length. Never merge, split, add, drop or reorder lines: return exactly one translated line \
         for every id you were given, even when a sentence continues on the next line. The lines in \
         context_before and context_after are only context: do not return them.",
        target = translation.target_language
    );
    let batch_text: String = batch
        .lines
        .iter()
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let terms: Vec<String> = translation
        .glossary
        .terms_in(&batch_text)
        .map(|(term, rendering)| format!("- {term:?} → {rendering:?}"))
        .collect();
    if !terms.is_empty() {
        prompt.push_str(" Glossary: render these terms exactly as given:\n");
        prompt.push_str(&terms.join("\n"));
        prompt.push('\n');
    }
    prompt.push_str(
        " Answer with only a JSON object of the form {\"lines\": [{\"id\": <id>, \"text\": \
         \"<translated line>\"}]} with the same ids in the same order.",
    );
    prompt
}

fn shorten_prompt(char_budget: usize) -> String {
    format!(
        "You shorten one line of a voice-over script so it can be spoken in less time. Rewrite it \
         in at most {char_budget} characters (spaces and punctuation count), in the same language, \
         keeping the essential meaning and sounding natural when spoken. Answer with only a JSON \
         object of the form {{\"text\": \"<shorter line>\"}}."
    )
}

/// Characters a line may have to be spoken in `available_ms` by a voice that speaks
/// `chars_per_second` at normal speed, sped up by at most `max_speed` (1.0 = not at all): the
/// budget to give [`LineEditor::shorten`]. At least 1.
pub fn char_budget(available_ms: u64, chars_per_second: f64, max_speed: f64) -> usize {
    let chars = available_ms as f64 / 1000.0 * chars_per_second * max_speed.max(1.0);
    if chars.is_finite() && chars >= 1.0 {
        chars.floor() as usize
    } else {
        1
    }
}

/// Rough tokens of a text.
fn tokens_of(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(CHARS_PER_TOKEN)
}

/// Polishes, translates and shortens subtitle lines with a [`ChatModel`].
#[derive(Debug, Clone)]
pub struct LineEditor<M> {
    model: M,
    cache: Option<ReplyCache>,
    options: EditOptions,
}

impl<M: ChatModel> LineEditor<M> {
    /// An editor over `model` with default options and no cache.
    pub fn new(model: M) -> Self {
        Self {
            model,
            cache: None,
            options: EditOptions::default(),
        }
    }

    /// Keeps validated replies in `cache` and answers repeated requests from it.
    pub fn with_cache(mut self, cache: ReplyCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Uses `options` for batching and re-asking.
    pub fn with_options(mut self, options: EditOptions) -> Self {
        self.options = options;
        self
    }

    /// The model in use.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// Grammar and fluency for voice-over. Same number of segments, same order, same windows.
    pub async fn polish(&self, segments: &[Segment]) -> Result<Vec<Segment>, LlmError> {
        self.rewrite(segments, "polish", |_| POLISH_PROMPT.to_string(), None)
            .await
    }

    /// Translation into `translation.target_language`, glossary terms as given. Same number of
    /// segments, same order, same windows; the texts are the translations.
    pub async fn translate(
        &self,
        segments: &[Segment],
        translation: &Translation,
    ) -> Result<Vec<Segment>, LlmError> {
        if translation.target_language.trim().is_empty() {
            return Err(LlmError::Config("no target language given".into()));
        }
        self.rewrite(
            segments,
            &format!("translation into {}", translation.target_language),
            |batch| translate_prompt(translation, batch),
            Some(&translation.glossary),
        )
        .await
    }

    /// `line` rewritten to at most `char_budget` characters. A line that already fits is returned
    /// unchanged without asking.
    pub async fn shorten(&self, line: &str, char_budget: usize) -> Result<String, LlmError> {
        if char_budget == 0 {
            return Err(LlmError::Config(
                "a character budget of 0 leaves nothing to say".into(),
            ));
        }
        let line = crate::text::fold_whitespace(line);
        if line.chars().count() <= char_budget {
            return Ok(line);
        }
        let messages = vec![
            ChatMessage::system(shorten_prompt(char_budget)),
            ChatMessage::user(serde_json::json!({ "text": line }).to_string()),
        ];
        let task = format!("shortening to {char_budget} characters of {line:?}");
        ask_validated(
            &self.model,
            self.cache.as_ref(),
            &task,
            messages,
            self.options.max_tries,
            |reply| {
                let text = parse_text_field(reply, "text")?;
                let chars = text.chars().count();
                if chars > char_budget {
                    return Err(format!(
                        "the text has {chars} characters but must have at most {char_budget}"
                    ));
                }
                Ok(text)
            },
        )
        .await
    }

    /// [`Self::shorten`] for many `(line, char_budget)` pairs at once (requests run concurrently,
    /// within the model's limit); one result per pair, in order.
    pub async fn shorten_all(&self, lines: &[(String, usize)]) -> Vec<Result<String, LlmError>> {
        join_all(
            lines
                .iter()
                .map(|(line, budget)| self.shorten(line, *budget)),
        )
        .await
    }

    async fn rewrite(
        &self,
        segments: &[Segment],
        operation: &str,
        system_prompt: impl Fn(&Batch) -> String,
        glossary: Option<&Glossary>,
    ) -> Result<Vec<Segment>, LlmError> {
        let batches = batches(segments, &self.options);
        let replies = try_join_all(batches.iter().map(|batch| {
            let messages = vec![
                ChatMessage::system(system_prompt(batch)),
                ChatMessage::user(batch.user_message()),
            ];
            let ids = batch.ids();
            let task = batch.label(operation);
            async move {
                let texts = ask_validated(
                    &self.model,
                    self.cache.as_ref(),
                    &task,
                    messages,
                    self.options.max_tries,
                    |reply| {
                        let texts = parse_lines(reply, &ids)?;
                        if let Some(glossary) = glossary {
                            for ((line, text), id) in batch.lines.iter().zip(&texts).zip(&ids) {
                                glossary.check(*id, &line.text, text)?;
                            }
                        }
                        Ok(texts)
                    },
                )
                .await?;
                Ok::<_, LlmError>(ids.into_iter().zip(texts).collect::<Vec<_>>())
            }
        }))
        .await?;
        let mut out = segments.to_vec();
        for (id, text) in replies.into_iter().flatten() {
            out[id - 1].text = text;
        }
        Ok(out)
    }
}

/// Rough input and output tokens of polishing (or, with `translation`, translating) `segments`
/// with `options`, from the very requests that would be sent, at [`CHARS_PER_TOKEN`]. Invalid
/// replies asked again are not counted.
pub fn estimate_tokens(
    segments: &[Segment],
    options: &EditOptions,
    translation: Option<&Translation>,
) -> TokenEstimate {
    let mut estimate = TokenEstimate::default();
    for batch in batches(segments, options) {
        let system = match translation {
            Some(t) => translate_prompt(t, &batch),
            None => POLISH_PROMPT.to_string(),
        };
        estimate.input +=
            tokens_of(&system) + tokens_of(&batch.user_message()) + 2 * TOKENS_PER_MESSAGE;
        let reply = Batch {
            context_before: Vec::new(),
            lines: batch.lines,
            context_after: Vec::new(),
        };
        estimate.output += tokens_of(&reply.user_message()) + TOKENS_PER_MESSAGE;
    }
    estimate
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(i: u64, text: &str) -> Segment {
        Segment::new(i * 1000, i * 1000 + 900, text)
    }

    #[test]
    fn batches_skip_silent_lines_and_carry_context() {
        let segments: Vec<Segment> = (0..7)
            .map(|i| seg(i, if i == 2 { "  " } else { "line" }))
            .collect();
        let options = EditOptions {
            batch_lines: 3,
            context_lines: 1,
            max_tries: 3,
        };
        let b = batches(&segments, &options);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].ids(), vec![1, 2, 4]);
        assert!(b[0].context_before.is_empty());
        assert_eq!(b[0].context_after.len(), 1);
        assert_eq!(b[1].ids(), vec![5, 6, 7]);
        assert_eq!(b[1].context_before.len(), 1);
        assert!(b[1].context_after.is_empty());
        assert_eq!(b[1].label("polish"), "polish of lines 5-7");
        assert!(
            b[0].user_message()
                .starts_with(r#"{"lines":[{"id":1,"text":"line"}"#)
        );
    }

    #[test]
    fn translate_prompt_lists_only_terms_in_the_batch() {
        let t = Translation {
            target_language: "French".into(),
            source_language: Some("English".into()),
            glossary: Glossary::from_pairs([
                ("pull request", "demande de fusion"),
                ("merge", "fusion"),
            ]),
        };
        let batch = &batches(&[seg(0, "Open a pull request.")], &EditOptions::default())[0];
        let prompt = translate_prompt(&t, batch);
        assert!(prompt.contains("from English into French"));
        assert!(prompt.contains("\"pull request\" → \"demande de fusion\""));
        assert!(!prompt.contains("\"merge\""));
    }

    #[test]
    fn char_budget_scales_with_time_rate_and_speed() {
        assert_eq!(char_budget(2000, 15.0, 1.0), 30);
        assert_eq!(char_budget(2000, 15.0, 1.25), 37);
        assert_eq!(
            char_budget(2000, 15.0, 0.5),
            30,
            "a max speed below 1 does not slow down"
        );
        assert_eq!(char_budget(0, 15.0, 1.0), 1);
        assert_eq!(char_budget(1000, f64::NAN, 1.0), 1);
    }

    #[test]
    fn token_estimate_grows_with_the_text() {
        let short: Vec<Segment> = (0..10).map(|i| seg(i, "Hi.")).collect();
        let long: Vec<Segment> = (0..10).map(|i| seg(i, &"word ".repeat(20))).collect();
        let o = EditOptions::default();
        let (a, b) = (
            estimate_tokens(&short, &o, None),
            estimate_tokens(&long, &o, None),
        );
        assert!(b.input > a.input && b.output > a.output);
        // 10 lines of 99 characters: at least 990 / 4 output tokens.
        assert!(b.output >= 990 / 4, "{b:?}");
        assert_eq!(estimate_tokens(&[], &o, None), TokenEstimate::default());
    }
}
