//! Whisper's vocabulary as the decoder loop needs it: the special tokens (their ids differ
//! between `.en` and multilingual vocabularies, so they are looked up by text) and token ids back
//! to text.

use std::path::Path;

use super::SttError;

/// The special tokens the decoder loop needs, looked up by their text in `vocabulary.txt`
/// (their ids differ between `.en` and multilingual vocabularies).
#[derive(Debug)]
pub struct SpecialTokens {
    pub end_of_text: usize,
    pub timestamp_begin: usize,
    /// Every token's text, by id.
    vocabulary: Vec<String>,
}

impl SpecialTokens {
    pub fn load(dir: &Path) -> Result<Self, SttError> {
        let path = dir.join("vocabulary.txt");
        let text = std::fs::read_to_string(&path).map_err(|e| SttError::Load {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let vocabulary: Vec<String> = text.lines().map(str::to_string).collect();
        let find = |token: &str| {
            vocabulary
                .iter()
                .position(|t| t == token)
                .ok_or_else(|| SttError::Load {
                    path: path.clone(),
                    message: format!("token {token} missing from the vocabulary"),
                })
        };
        Ok(Self {
            end_of_text: find("<|endoftext|>")?,
            timestamp_begin: find("<|0.00|>")?,
            vocabulary,
        })
    }

    pub fn is_timestamp(&self, id: usize) -> bool {
        id >= self.timestamp_begin
    }

    pub fn is_text(&self, id: usize) -> bool {
        id < self.end_of_text
    }

    pub fn contains(&self, token: &str) -> bool {
        self.id(token).is_some()
    }

    /// The id of a token given by its text (`<|de|>`).
    pub fn id(&self, token: &str) -> Option<usize> {
        self.vocabulary.iter().position(|t| t == token)
    }

    /// A token's text in the vocabulary's byte-level form (`Ġ` for a leading space).
    pub fn text(&self, id: usize) -> &str {
        self.vocabulary.get(id).map_or("", String::as_str)
    }

    /// Token ids → text. Whisper's vocabulary is byte-level BPE (GPT-2): each token is a string
    /// of stand-in characters, one per byte; map them back to bytes and read UTF-8.
    pub fn decode(&self, ids: &[usize]) -> String {
        let mut bytes = Vec::new();
        for token in ids.iter().filter_map(|&id| self.vocabulary.get(id)) {
            bytes.extend(token.chars().filter_map(byte_of_bpe_char));
        }
        String::from_utf8_lossy(&bytes).trim().to_string()
    }
}

/// Inverse of GPT-2's `bytes_to_unicode`: printable Latin-1 bytes stand for themselves, the other
/// 68 bytes (controls, space, …) were shifted to U+0100.. in byte order.
fn byte_of_bpe_char(c: char) -> Option<u8> {
    let is_printable = |b: u32| {
        (0x21..=0x7E).contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b)
    };
    let code = u32::from(c);
    if code < 0x100 {
        return is_printable(code).then_some(code as u8);
    }
    let index = code - 0x100;
    (0u32..=0xFF)
        .filter(|&b| !is_printable(b))
        .nth(index as usize)
        .map(|b| b as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bpe_chars_map_back_to_bytes() {
        // 'Ġ' (U+0120) stands for a space, 'Ċ' (U+010A) for a newline.
        assert_eq!(byte_of_bpe_char('Ġ'), Some(b' '));
        assert_eq!(byte_of_bpe_char('Ċ'), Some(b'\n'));
        assert_eq!(byte_of_bpe_char('a'), Some(b'a'));
        assert_eq!(byte_of_bpe_char('\u{0100}'), Some(0));
        // "é" is two UTF-8 bytes, 0xC3 0xA9, both printable Latin-1 stand-ins.
        let bytes: Vec<u8> = "Ã©".chars().filter_map(byte_of_bpe_char).collect();
        assert_eq!(String::from_utf8(bytes).unwrap(), "é");
        // Every byte has exactly one stand-in.
        let all: std::collections::HashSet<u8> = (0u32..0x200)
            .filter_map(char::from_u32)
            .filter_map(byte_of_bpe_char)
            .collect();
        assert_eq!(all.len(), 256);
    }
}
