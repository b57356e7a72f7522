//! `dubber studio` in a real browser (headless Chromium through chromedriver): the page loads
//! with the token and lists every line; editing a line's text through the page saves subs.srt,
//! makes exactly one TTS request and shows the line's new speed; "Needs attention" shows exactly
//! the lines whose report has warnings or a speed over 1.15.

mod common;
mod common_studio;

use common_studio::webdriver::Browser;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_lists_edits_and_filters_lines() {
    let s = common_studio::start().await;
    let browser = Browser::start().await;
    browser.goto(&s.url).await;
    browser
        .wait_for(
            "return document.querySelectorAll('tr.line').length === 8",
            30,
            "the page to list 8 lines",
        )
        .await;
    let rows = browser
        .eval("return [...document.querySelectorAll('tr.line')].map(r => [Number(r.dataset.id), r.querySelector('.text').textContent, r.querySelector('.speed').textContent])")
        .await;
    let rows = rows.as_array().unwrap();
    let subs = s.subs();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], i + 1);
        assert!(subs.contains(row[1].as_str().unwrap()), "{row}");
    }
    assert_eq!(rows[6][2], "1.00×");
    // The token left the address bar; the page still reads the API (Bearer) and media (cookie).
    assert_eq!(browser.eval("return location.search").await, "");
    assert_eq!(s.tts.stats.requests(), 7);

    // Edit line 7 through the page: Edit, new text, Save.
    let longer = format!("{} Once more.", common_studio::LONG);
    let edit = browser.find("tr.line[data-id='7'] button.edit").await;
    browser.click(&edit).await;
    let text = browser.find("#edit-text").await;
    browser.clear(&text).await;
    browser.type_text(&text, &longer).await;
    let save = browser.find("#edit-save").await;
    browser.click(&save).await;
    browser
        .wait_for(
            "return document.querySelector('tr.line[data-id=\"7\"] .speed').textContent !== '1.00×'",
            60,
            "line 7's new speed",
        )
        .await;
    assert!(s.subs().contains(&longer), "{}", s.subs());
    assert_eq!(s.tts.stats.requests(), 8, "exactly one TTS request");
    let report = s.report();
    let speed = report["chunks"][6]["speed"].as_f64().unwrap();
    assert!(speed > 1.2, "{speed}");
    let shown = browser
        .eval("return document.querySelector('tr.line[data-id=\"7\"] .speed').textContent")
        .await;
    assert_eq!(shown, format!("{speed:.2}×").as_str());
    let status = browser
        .eval("return document.querySelector('#status').textContent")
        .await;
    assert!(status.as_str().unwrap().contains("re-rendered"), "{status}");
    // The player was given the new track.
    let src = browser
        .eval("return document.querySelector('#dub').src")
        .await;
    assert!(src.as_str().unwrap().ends_with("/media/dub?v=1"), "{src}");

    // Needs attention: exactly the lines whose report has warnings or speed over 1.15.
    let expected: Vec<Value> = report["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            !c["warnings"].as_array().unwrap().is_empty() || c["speed"].as_f64().unwrap() > 1.15
        })
        .map(|(i, _)| Value::from(i + 1))
        .collect();
    assert!(!expected.is_empty() && expected.len() < 8, "{expected:?}");
    let attention = browser.find("#attention").await;
    browser.click(&attention).await;
    let visible = browser
        .eval("return [...document.querySelectorAll('tr.line')].filter(r => r.offsetParent !== null).map(r => Number(r.dataset.id))")
        .await;
    assert_eq!(visible.as_array().unwrap(), &expected);
    browser.click(&attention).await;
    let all = browser
        .eval("return [...document.querySelectorAll('tr.line')].filter(r => r.offsetParent !== null).length")
        .await;
    assert_eq!(all, 8);
    browser.quit().await;
}
