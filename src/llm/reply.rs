//! Finding the JSON in a model's reply and checking that it answers what was asked.
//!
//! Models wrap JSON in prose ("Here are the lines:") or Markdown fences even when told not to,
//! so the JSON value is located first; the value itself is then parsed with a strict JSON parser
//! and validated. Validation errors are written for the model to read, because they are sent back
//! to it as the reason for asking again.

use serde_json::Value;

/// The first JSON object or array in `reply`: the whole reply if it is JSON, else the contents of
/// a ```` ``` ```` fence, else the first `{`/`[` from which a complete JSON value parses (text
/// after it is ignored).
pub fn extract_json(reply: &str) -> Result<Value, String> {
    let trimmed = reply.trim();
    if let Ok(value) = serde_json::from_str::<Value>(trimmed)
        && (value.is_object() || value.is_array())
    {
        return Ok(value);
    }
    for block in fenced_blocks(trimmed) {
        if let Ok(value) = serde_json::from_str::<Value>(block.trim())
            && (value.is_object() || value.is_array())
        {
            return Ok(value);
        }
    }
    for (at, _) in trimmed
        .char_indices()
        .filter(|&(_, c)| c == '{' || c == '[')
    {
        let mut values = serde_json::Deserializer::from_str(&trimmed[at..]).into_iter::<Value>();
        if let Some(Ok(value)) = values.next()
            && (value.is_object() || value.is_array())
        {
            return Ok(value);
        }
    }
    Err("the reply contains no JSON object; answer with only the JSON object asked for".into())
}

/// Contents of Markdown code fences (```` ```json … ``` ````), in order.
fn fenced_blocks(text: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        // The info string ("json") runs to the end of the opening line.
        let body_start = after.find('\n').map_or(after.len(), |n| n + 1);
        let body = &after[body_start..];
        let Some(close) = body.find("```") else { break };
        blocks.push(&body[..close]);
        rest = &body[close + 3..];
    }
    blocks
}

/// The texts of a `{"lines": [{"id": …, "text": …}]}` reply (a bare array of such items is also
/// accepted), checked against the ids that were sent, in order. Texts are folded to one line.
pub fn parse_lines(reply: &str, expected_ids: &[usize]) -> Result<Vec<String>, String> {
    let value = extract_json(reply)?;
    let items = match &value {
        Value::Array(items) => items,
        Value::Object(map) => match map.get("lines") {
            Some(Value::Array(items)) => items,
            _ => return Err(r#"the JSON object has no "lines" array"#.into()),
        },
        _ => unreachable!("extract_json returns objects and arrays only"),
    };
    let mut ids = Vec::with_capacity(items.len());
    let mut texts = Vec::with_capacity(items.len());
    for (n, item) in items.iter().enumerate() {
        let id = item
            .get("id")
            .and_then(Value::as_u64)
            .ok_or_else(|| format!(r#"item {} of "lines" has no whole-number "id""#, n + 1))?;
        let text = item.get("text").and_then(Value::as_str).ok_or_else(|| {
            format!(
                r#"item {} of "lines" (id {id}) has no string "text""#,
                n + 1
            )
        })?;
        ids.push(id as usize);
        texts.push(crate::text::fold_whitespace(text));
    }
    if ids.len() != expected_ids.len() {
        return Err(format!(
            "expected {} lines (ids {}), got {} lines (ids {}); return exactly one line per id, \
             without merging or splitting lines",
            expected_ids.len(),
            list_ids(expected_ids),
            ids.len(),
            list_ids(&ids)
        ));
    }
    if let Some(n) = ids
        .iter()
        .zip(expected_ids)
        .position(|(got, want)| got != want)
    {
        return Err(format!(
            "line {} has id {}, expected id {}; keep the ids and their order exactly (ids {})",
            n + 1,
            ids[n],
            expected_ids[n],
            list_ids(expected_ids)
        ));
    }
    if let Some(n) = texts.iter().position(|t| t.is_empty()) {
        return Err(format!("the text of id {} is empty", ids[n]));
    }
    Ok(texts)
}

fn list_ids(ids: &[usize]) -> String {
    ids.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The string under `field` of a `{"field": "…"}` reply, folded to one line and not empty.
pub fn parse_text_field(reply: &str, field: &str) -> Result<String, String> {
    let value = extract_json(reply)?;
    let text = value
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!(r#"the JSON object has no string "{field}""#))?;
    let text = crate::text::fold_whitespace(text);
    if text.is_empty() {
        return Err(format!(r#""{field}" is empty"#));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINES: &str = r#"{"lines":[{"id":4,"text":"Hello there."},{"id":5,"text":"Bye."}]}"#;

    #[test]
    fn bare_json_prose_and_fences_are_all_found() {
        let want = vec!["Hello there.".to_string(), "Bye.".to_string()];
        assert_eq!(parse_lines(LINES, &[4, 5]).unwrap(), want);
        let prose = format!(
            "Sure! Here are the edited lines:\n{LINES}\nLet me know if {{more}} is needed."
        );
        assert_eq!(parse_lines(&prose, &[4, 5]).unwrap(), want);
        let fenced = format!("```json\n{LINES}\n```");
        assert_eq!(parse_lines(&fenced, &[4, 5]).unwrap(), want);
        let fenced_in_prose = format!("Result [final]:\n\n```\n{LINES}\n```\nDone.");
        assert_eq!(parse_lines(&fenced_in_prose, &[4, 5]).unwrap(), want);
        let bare_array = r#"[{"id":4,"text":"Hello\n there."},{"id":5,"text":"Bye."}]"#;
        assert_eq!(parse_lines(bare_array, &[4, 5]).unwrap(), want);
    }

    #[test]
    fn wrong_count_ids_and_shapes_are_explained() {
        let e = parse_lines(LINES, &[4, 5, 6]).unwrap_err();
        assert!(
            e.contains("expected 3 lines (ids 4, 5, 6), got 2 lines (ids 4, 5)"),
            "{e}"
        );
        let e = parse_lines(LINES, &[4, 6]).unwrap_err();
        assert!(e.contains("line 2 has id 5, expected id 6"), "{e}");
        let e = parse_lines(r#"{"lines":[{"id":4}]}"#, &[4]).unwrap_err();
        assert!(e.contains(r#"no string "text""#), "{e}");
        let e = parse_lines(r#"{"lines":[{"id":4,"text":"  "}]}"#, &[4]).unwrap_err();
        assert!(e.contains("id 4 is empty"), "{e}");
        let e = parse_lines(r#"{"result":[]}"#, &[4]).unwrap_err();
        assert!(e.contains(r#"no "lines" array"#), "{e}");
        let e = parse_lines("I cannot do that.", &[4]).unwrap_err();
        assert!(e.contains("no JSON object"), "{e}");
        // Truncated JSON is not repaired.
        assert!(parse_lines(r#"{"lines":[{"id":4,"text":"Hi"}"#, &[4]).is_err());
    }

    #[test]
    fn text_field_is_read() {
        assert_eq!(
            parse_text_field("```json\n{\"text\": \" Short  one \"}\n```", "text").unwrap(),
            "Short one"
        );
        assert!(parse_text_field(r#"{"text": ""}"#, "text").is_err());
        assert!(parse_text_field(r#"{"line": "x"}"#, "text").is_err());
    }
}
