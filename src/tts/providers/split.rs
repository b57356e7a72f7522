//! Splitting a text that is longer than a provider accepts into pieces that each fit, at sentence
//! boundaries where possible, so the joined audio sounds like one utterance with natural pauses.
//!
//! The pipeline's packer already keeps chunks short; this is the safety net for library callers
//! and for odd inputs (one huge cue), so it only needs to be correct, not clever.

use std::future::Future;

use crate::audio::Pcm;
use crate::tts::error::SynthError;
use crate::tts::request::{AudioFormat, SynthAudio, SynthRequest};

/// Split `text` into pieces of at most `max_chars` characters (at least 1), preferring to cut after
/// sentence-ending punctuation, then at whitespace, and only as a last resort inside a word.
pub(crate) fn split_to_limit(text: &str, max_chars: usize) -> Vec<String> {
    let max_chars = max_chars.max(1);
    let text = text.trim();
    if text.chars().count() <= max_chars {
        return vec![text.to_string()];
    }
    let mut pieces = Vec::new();
    let mut current = String::new();
    for sentence in crate::text::split_sentences(text) {
        let sentence = sentence.trim();
        if sentence.is_empty() {
            continue;
        }
        let joined_len = current.chars().count() + 1 + sentence.chars().count();
        if !current.is_empty() && joined_len <= max_chars {
            current.push(' ');
            current.push_str(sentence);
            continue;
        }
        if !current.is_empty() {
            pieces.push(std::mem::take(&mut current));
        }
        if sentence.chars().count() <= max_chars {
            current = sentence.to_string();
        } else {
            let mut long = split_words(sentence, max_chars);
            // The last piece of a long sentence can still take the next sentence.
            current = long.pop().unwrap_or_default();
            pieces.extend(long);
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// Pieces of at most `max_chars` characters, cut at whitespace when a word boundary is close enough.
fn split_words(text: &str, max_chars: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while rest.chars().count() > max_chars {
        let hard = rest
            .char_indices()
            .nth(max_chars)
            .map_or(rest.len(), |(i, _)| i);
        let cut = rest[..hard]
            .rfind(char::is_whitespace)
            .filter(|&i| i > 0)
            .unwrap_or(hard);
        pieces.push(rest[..cut].trim_end().to_string());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() {
        pieces.push(rest.to_string());
    }
    pieces
}

/// Speak `text` through `request`, one piece of at most `max_chars` characters at a time when it
/// is longer, and join the pieces' audio into one clip (in the format the provider returned).
async fn speak_in_pieces<F, Fut>(
    provider: &str,
    text: &str,
    max_chars: usize,
    request: F,
) -> Result<SynthAudio, SynthError>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<SynthAudio, SynthError>>,
{
    let pieces = split_to_limit(text, max_chars);
    let count = pieces.len();
    let mut parts = Vec::with_capacity(count);
    let mut format = AudioFormat::Wav;
    for (i, piece) in pieces.into_iter().enumerate() {
        let audio = request(piece).await?;
        if count == 1 {
            return Ok(audio);
        }
        let pcm = audio.decode().map_err(|message| SynthError::InvalidAudio {
            message: format!("{provider} part {} of {count}: {message}", i + 1),
        })?;
        parts.push(pcm);
        format = audio.format;
    }
    let joined = Pcm::join(parts).map_err(|message| SynthError::InvalidAudio { message })?;
    let bytes = match format {
        AudioFormat::Wav => joined.to_wav().map_err(SynthError::Engine)?,
        AudioFormat::Pcm16 { .. } => joined.to_pcm16(),
    };
    Ok(SynthAudio { bytes, format })
}

/// A service that speaks at most [`Remote::MAX_INPUT_CHARS`] characters a request: [`speak`]
/// splits longer texts and joins the audio, so each provider writes only its one request.
pub(crate) trait Remote: Sync {
    /// The service's name, for messages.
    const NAME: &'static str;
    /// The longest text one request may carry.
    const MAX_INPUT_CHARS: usize;

    /// One request for one piece of `req`'s text.
    fn request(
        &self,
        req: &SynthRequest,
        piece: &str,
    ) -> impl Future<Output = Result<SynthAudio, SynthError>> + Send;
}

/// `req` spoken by `remote`, in pieces when its text is longer than the service accepts.
pub(crate) async fn speak<R: Remote>(
    remote: &R,
    req: &SynthRequest,
) -> Result<SynthAudio, SynthError> {
    speak_in_pieces(R::NAME, &req.text, R::MAX_INPUT_CHARS, |piece| async move {
        remote.request(req, &piece).await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_piece() {
        assert_eq!(
            split_to_limit("  Hello there.  ", 100),
            vec!["Hello there."]
        );
    }

    #[test]
    fn cuts_at_sentence_ends_and_packs() {
        let text = "One two. Three four! Five six? Seven.";
        let pieces = split_to_limit(text, 20);
        assert_eq!(pieces, vec!["One two. Three four!", "Five six? Seven."]);
    }

    #[test]
    fn every_piece_fits_and_no_word_is_lost() {
        let sentence = "This sentence has exactly several words in it and goes on. ";
        let text = sentence.repeat(200) + &"x".repeat(9000);
        for limit in [50, 4096] {
            let pieces = split_to_limit(&text, limit);
            assert!(pieces.iter().all(|p| p.chars().count() <= limit));
            let rejoined: String = pieces.join(" ");
            let words = |s: &str| s.split_whitespace().collect::<String>();
            assert_eq!(words(&rejoined), words(&text));
        }
    }

    #[test]
    fn multibyte_text_is_cut_on_char_boundaries() {
        let text = "ééééé ".repeat(50);
        let pieces = split_to_limit(&text, 7);
        assert!(pieces.iter().all(|p| p.chars().count() <= 7));
        assert_eq!(pieces.len(), 50);
    }
}
