//! Terms a translation must render exactly as the user gave them (names, products, jargon).
//!
//! A glossary file is either
//!
//! ```text
//! # comments and blank lines are ignored
//! Kubernetes = Kubernetes
//! pull request = demande de fusion
//! ```
//!
//! (one `term = translation` per line, split at the first `=`), or a JSON object
//! `{"pull request": "demande de fusion"}` (a file whose first non-blank character is `{`).
//! Terms match case-insensitively on word boundaries; the translation must then contain the
//! given rendering (case-insensitively), which the translator checks on every reply.

use std::path::Path;

use super::LlmError;

/// Source terms and the renderings a translation must use for them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Glossary {
    entries: Vec<(String, String)>,
}

impl Glossary {
    /// A glossary from `(term, translation)` pairs.
    pub fn from_pairs<I, S, T>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (S, T)>,
        S: Into<String>,
        T: Into<String>,
    {
        Self {
            entries: pairs
                .into_iter()
                .map(|(s, t)| (s.into(), t.into()))
                .collect(),
        }
    }

    /// Reads a glossary file (format in the module documentation).
    pub fn load(path: &Path) -> Result<Self, LlmError> {
        let text = std::fs::read_to_string(path).map_err(|e| LlmError::Glossary {
            path: path.to_path_buf(),
            line: None,
            message: e.to_string(),
        })?;
        Self::parse(&text, path)
    }

    /// Parses glossary text; `path` only labels errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, LlmError> {
        let error = |line: Option<usize>, message: String| LlmError::Glossary {
            path: path.to_path_buf(),
            line,
            message,
        };
        let mut entries: Vec<(String, String)> = Vec::new();
        if text.trim_start().starts_with('{') {
            let map: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(text).map_err(|e| error(Some(e.line()), e.to_string()))?;
            for (term, value) in map {
                let translation = value.as_str().ok_or_else(|| {
                    error(None, format!("the translation of {term:?} is not a string"))
                })?;
                entries.push((term.trim().to_string(), translation.trim().to_string()));
            }
        } else {
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (term, translation) = line.split_once('=').ok_or_else(|| {
                    error(
                        Some(n + 1),
                        format!("expected `term = translation`, found {line:?}"),
                    )
                })?;
                entries.push((term.trim().to_string(), translation.trim().to_string()));
            }
        }
        for (term, translation) in &entries {
            if term.is_empty() || translation.is_empty() {
                return Err(error(
                    None,
                    format!("empty term or translation in {term:?} = {translation:?}"),
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        if let Some((term, _)) = entries.iter().find(|(t, _)| !seen.insert(t.to_lowercase())) {
            return Err(error(None, format!("the term {term:?} is given twice")));
        }
        Ok(Self { entries })
    }

    /// All entries, in file order.
    pub fn entries(&self) -> &[(String, String)] {
        &self.entries
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries whose term occurs in `text`.
    pub fn terms_in<'a>(
        &'a self,
        text: &'a str,
    ) -> impl Iterator<Item = &'a (String, String)> + 'a {
        self.entries
            .iter()
            .filter(move |(term, _)| contains_term(text, term))
    }

    /// Checks one translated line: every term found in `source` must appear in `translated` as
    /// given. The error is phrased for the model.
    pub fn check(&self, id: usize, source: &str, translated: &str) -> Result<(), String> {
        let lower = translated.to_lowercase();
        for (term, rendering) in self.terms_in(source) {
            if !lower.contains(&rendering.to_lowercase()) {
                return Err(format!(
                    "line id {id} must render the glossary term {term:?} exactly as {rendering:?}"
                ));
            }
        }
        Ok(())
    }
}

/// Case-insensitive search for `term` in `text` that does not match inside a longer word.
pub(crate) fn contains_term(text: &str, term: &str) -> bool {
    let text = text.to_lowercase();
    let term = term.to_lowercase();
    if term.is_empty() {
        return false;
    }
    let mut from = 0;
    while let Some(pos) = text[from..].find(&term) {
        let start = from + pos;
        let end = start + term.len();
        let before_ok = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after_ok = text[end..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        if before_ok && after_ok {
            return true;
        }
        from = start + text[start..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats_parse_to_the_same_glossary() {
        let p = Path::new("g.txt");
        let lines = Glossary::parse(
            "# terms\n\nKubernetes = Kubernetes\npull request = demande de fusion\n",
            p,
        )
        .unwrap();
        let json = Glossary::parse(
            r#"{"Kubernetes": "Kubernetes", "pull request": "demande de fusion"}"#,
            p,
        )
        .unwrap();
        assert_eq!(lines.entries().len(), 2);
        let mut a = lines.entries().to_vec();
        let mut b = json.entries().to_vec();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    #[test]
    fn malformed_lines_name_file_and_line() {
        let e = Glossary::parse("a = b\nno separator here\n", Path::new("terms.txt")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "glossary terms.txt:2: expected `term = translation`, found \"no separator here\""
        );
        assert!(Glossary::parse("a = \n", Path::new("g")).is_err());
        assert!(
            Glossary::parse("A = x\na = y\n", Path::new("g"))
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
        assert!(Glossary::parse(r#"{"a": 1}"#, Path::new("g")).is_err());
    }

    #[test]
    fn terms_match_whole_words_only() {
        assert!(contains_term("We use Rust daily.", "rust"));
        assert!(!contains_term("It is trusty.", "rust"));
        assert!(contains_term("Open a pull request!", "Pull Request"));
        assert!(contains_term("Café crème", "café"));
        let g = Glossary::from_pairs([("pull request", "demande de fusion")]);
        assert!(
            g.check(1, "Open a pull request", "Ouvrez une demande de fusion")
                .is_ok()
        );
        let e = g
            .check(1, "Open a pull request", "Ouvrez une PR")
            .unwrap_err();
        assert!(e.contains("\"demande de fusion\""), "{e}");
        assert!(g.check(1, "Nothing here", "Rien").is_ok());
    }
}
