//! The language the speech was heard in, as prep keeps it (`manifest.json`) and synth reports it
//! (`report.json`): given or detected, with the detector's first two choices, and a warning when
//! the detector was unsure.
//!
//! Why warn: Whisper transcribes in the language it detected, so a wrong guess gives lines in the
//! wrong language (Russian heard as Polish is written as Polish-looking words), and nothing else
//! in the run fails. An unsure guess is the sign; the fix is naming the language.

use serde::{Deserialize, Serialize};

use super::languages;

/// The detector is unsure, and prep warns, when its first choice has a probability below this.
///
/// Measured with the multilingual Whisper base on espeak-ng speech (detection on the first 30 s
/// of the VAD's speech, as prep does; conversational sentences as in `tests/multilingual.rs`,
/// "prose" a news sentence; 140–160 wpm, resampled to 16 kHz by ffmpeg or rubato). Wrong guesses:
///
/// | spoken | heard as | p | runner-up |
/// |---|---|---|---|
/// | Russian, 150 wpm (issue 24) | Polish | 0.59 | |
/// | Polish, 150 wpm | Czech | 0.27–0.45 | Polish 0.20–0.34 |
/// | Polish, 120 wpm | Latin | 0.16 | Hungarian 0.14 |
/// | Russian news, 140–160 wpm | Czech, Georgian, Mongolian, German | 0.12–0.42 | |
///
/// Right guesses: English 0.90–0.95, German 0.92–0.94, Spanish 0.95–0.97, Italian 0.98, French
/// 0.65–0.86 (prose 0.29–0.86), Russian 0.39–0.86 (prose 0.21–0.29), Polish prose 0.48.
///
/// Every wrong guess was below 0.6, every clearly spoken language (English, German, Spanish,
/// Italian) above 0.89. 0.7 warns on every wrong guess with a margin of 0.11 over the highest,
/// never on those four, and on right guesses only where the detector itself hesitated (French and
/// Russian read by espeak-ng), which are worth a look as well.
pub const SURE_LANGUAGE: f32 = 0.7;

/// One of the detector's choices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LanguageGuess {
    /// ISO 639-1 code, as in Whisper's tokens (`ru`).
    pub code: String,
    /// Its English name (`Russian`).
    pub name: String,
    /// The detector's probability for it (0–1).
    pub probability: f32,
}

impl LanguageGuess {
    /// The guess `code` with `probability`, named.
    pub fn new(code: &str, probability: f32) -> Self {
        Self {
            code: code.to_string(),
            name: languages::name(code).to_string(),
            probability,
        }
    }
}

/// The language the lines were transcribed in, and how it was chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeardLanguage {
    /// ISO 639-1 code (`pl`).
    pub code: String,
    /// Its English name (`Polish`).
    pub name: String,
    /// True when a detector chose it (with `probability`); false when it was named
    /// (`--stt-language`) or a server said it without a probability.
    pub detected: bool,
    /// The detector's probability for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f32>,
    /// The detector's second choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner_up: Option<LanguageGuess>,
    /// Said when the detection was unsure (probability below [`SURE_LANGUAGE`]): the two likely
    /// languages and the flag that names the language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl HeardLanguage {
    /// A language named rather than detected.
    pub fn given(code: &str) -> Self {
        Self {
            code: code.to_string(),
            name: languages::name(code).to_string(),
            detected: false,
            probability: None,
            runner_up: None,
            warning: None,
        }
    }

    /// The detector's choice `best`, and its second choice; with a warning when it is unsure.
    pub fn detected(best: LanguageGuess, runner_up: Option<LanguageGuess>) -> Self {
        let warning = (best.probability < SURE_LANGUAGE).then(|| unsure(&best, runner_up.as_ref()));
        Self {
            code: best.code,
            name: best.name,
            detected: true,
            probability: Some(best.probability),
            runner_up,
            warning,
        }
    }
}

/// The warning for an unsure detection of `best`.
fn unsure(best: &LanguageGuess, runner_up: Option<&LanguageGuess>) -> String {
    let guess = |g: &LanguageGuess| format!("{} ({}, p = {:.2})", g.name, g.code, g.probability);
    match runner_up {
        Some(second) => format!(
            "the spoken language is unsure: {} or {}; the speech was heard as {}. If it is \
             another language, name it: --stt-language {}",
            guess(best),
            guess(second),
            best.name,
            second.name
        ),
        None => format!(
            "the spoken language is unsure: {}; if it is another language, name it with \
             --stt-language",
            guess(best)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsure_detection_names_both_languages_and_the_flag() {
        let heard = HeardLanguage::detected(
            LanguageGuess::new("pl", 0.59),
            Some(LanguageGuess::new("ru", 0.31)),
        );
        let warning = heard.warning.expect("p = 0.59 is unsure");
        for said in [
            "Polish (pl, p = 0.59)",
            "Russian (ru, p = 0.31)",
            "--stt-language Russian",
        ] {
            assert!(warning.contains(said), "{warning}");
        }
        let sure = HeardLanguage::detected(
            LanguageGuess::new("de", 0.89),
            Some(LanguageGuess::new("nl", 0.04)),
        );
        assert_eq!(sure.warning, None);
        assert_eq!(HeardLanguage::given("ru").name, "Russian");
        assert_eq!(HeardLanguage::given("ru").warning, None);
    }

    #[test]
    fn the_json_keeps_the_choices_and_leaves_out_what_is_not_known() {
        let heard = HeardLanguage::detected(LanguageGuess::new("pl", 0.5), None);
        let json = serde_json::to_value(&heard).unwrap();
        assert_eq!(json["code"], "pl");
        assert_eq!(json["detected"], true);
        assert!(json.get("runner_up").is_none());
        let given = serde_json::to_value(HeardLanguage::given("ru")).unwrap();
        assert!(given.get("probability").is_none() && given.get("warning").is_none());
    }
}
