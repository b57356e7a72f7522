//! The JSON interface the page uses (and scripts may): the project, edits to one line, a shorter
//! wording from the chat model, and the export. Errors answer `{"error": "..."}` with the status
//! that says whose fault it is: 400 a bad request (nothing changed), 404 no such line, 502 the
//! engine or the chat model failed (the edit was undone), 500 the server failed.
//!
//! An edit or an export runs in a task of its own: axum drops a handler's future when its client
//! goes away, and an edit stopped there would leave subs.srt saved but the track and the session
//! not. The task runs to the end (or undoes the edit), and `/api/status` says how it ended.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::App;
use crate::llm::ChatModel;
use crate::pipeline::synth::session::{EditError, LineEdit};
use crate::segment::secs_to_ms;
use crate::tts::Synthesizer;

/// An error response: a status and a message for people.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, message.into())
}

/// The error and every cause under it, as the CLI prints them.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text = format!("{text}: {part}");
        }
        source = s.source();
    }
    text
}

impl From<EditError> for ApiError {
    fn from(e: EditError) -> Self {
        let status = match &e {
            EditError::NoLine { .. } => StatusCode::NOT_FOUND,
            EditError::Invalid(_) => StatusCode::BAD_REQUEST,
            EditError::NotSynthesized { .. } | EditError::Stage(_) | EditError::Llm(_) => {
                StatusCode::BAD_GATEWAY
            }
        };
        ApiError(status, chain(&e))
    }
}

/// `GET /api/project`.
pub async fn project<S: Synthesizer + 'static, M: ChatModel + 'static>(
    State(app): State<Arc<App<S, M>>>,
) -> Response {
    Json(&*app.snapshot()).into_response()
}

/// The body of `PATCH /api/lines/{id}`: any of `text`, `start`, `end` (seconds), `speaker`
/// (a name, or null for none).
pub fn parse_edit(body: &[u8]) -> Result<LineEdit, ApiError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("the body is not JSON: {e}")))?;
    let Value::Object(fields) = value else {
        return Err(bad("the body must be a JSON object"));
    };
    if let Some(unknown) = fields
        .keys()
        .find(|k| !["text", "start", "end", "speaker"].contains(&k.as_str()))
    {
        return Err(bad(format!(
            "unknown field {unknown:?}: a line has text, start, end and speaker"
        )));
    }
    let time = |fields: &Map<String, Value>, name: &str| -> Result<Option<u64>, ApiError> {
        match fields.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .and_then(secs_to_ms)
                .map(Some)
                .ok_or_else(|| bad(format!("{name} must be a time in seconds, got {v}"))),
        }
    };
    let text = match fields.get("text") {
        None => None,
        Some(Value::String(t)) => Some(t.clone()),
        Some(v) => return Err(bad(format!("text must be a string, got {v}"))),
    };
    let speaker = match fields.get("speaker") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(v) => return Err(bad(format!("speaker must be a string or null, got {v}"))),
    };
    Ok(LineEdit {
        text,
        start_ms: time(&fields, "start")?,
        end_ms: time(&fields, "end")?,
        speaker,
    })
}

/// A line id from the path: a whole number.
fn line_id(id: &str) -> Result<usize, ApiError> {
    id.parse().map_err(|_| {
        ApiError(
            StatusCode::NOT_FOUND,
            format!("there is no line {id:?}: lines are numbered from 1"),
        )
    })
}

/// `PATCH /api/lines/{id}`: apply the edit, answer the updated project. Edits run one at a time:
/// one that arrives during a render waits for it.
pub async fn edit_line<S: Synthesizer + 'static, M: ChatModel + 'static>(
    State(app): State<Arc<App<S, M>>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = line_id(&id)?;
    let edit = parse_edit(&body)?;
    let task = tokio::spawn(edit_to_the_end(app.clone(), id, edit));
    match task.await {
        Ok(project) => Ok(Json(&*project?).into_response()),
        Err(stopped) => {
            // A bug: the session still holds the lines from before the edit; so must subs.srt.
            let undone = app.session.lock().await.save_subtitles();
            let message = format!(
                "line {id}: the edit stopped ({stopped}); {}",
                match undone {
                    Ok(()) => "subs.srt is as before".to_string(),
                    Err(e) => format!("subs.srt could not be restored: {}", chain(&e)),
                }
            );
            app.end(message.clone());
            Err(ApiError(StatusCode::INTERNAL_SERVER_ERROR, message))
        }
    }
}

/// Apply an edit under the session's lock, publish the project and say how it ended.
async fn edit_to_the_end<S: Synthesizer + 'static, M: ChatModel + 'static>(
    app: Arc<App<S, M>>,
    id: usize,
    edit: LineEdit,
) -> Result<Arc<super::Project>, ApiError> {
    let mut session = app.session.lock().await;
    app.begin(format!("line {id}: synthesizing and rendering"));
    match session.edit(id, &edit).await {
        Ok(outcome) => {
            tracing::info!(
                "line {id} edited: {} TTS request(s), synthesized in {:.2} s, rendered in {:.2} s",
                outcome.requests,
                outcome.synth_secs,
                outcome.render_secs
            );
            let project = app.publish(&session);
            app.end(format!(
                "line {id}: edited ({} TTS request(s)); the dub track is version {}",
                outcome.requests, project.version
            ));
            Ok(project)
        }
        Err(e) => {
            let error = ApiError::from(e);
            app.end(format!("line {id}: not changed: {}", error.1));
            Err(error)
        }
    }
}

/// `POST /api/lines/{id}/shorten`: a shorter wording from the chat model, not applied.
pub async fn shorten_line<S: Synthesizer + 'static, M: ChatModel + 'static>(
    State(app): State<Arc<App<S, M>>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = line_id(&id)?;
    let Some(editor) = app.editor.as_ref() else {
        return Err(ApiError(
            StatusCode::BAD_GATEWAY,
            "no chat model: start studio with --llm-base-url (or OPENAI_BASE_URL / OPENAI_API_KEY) to shorten lines".into(),
        ));
    };
    let session = app.session.lock().await;
    let text = session.suggest_shorter(id, editor).await?;
    Ok(Json(json!({ "id": id, "text": text })).into_response())
}

/// `POST /api/export`: mix and mux the dubbed video, answer `{"path"}`. Like an edit, it runs to
/// the end whether or not its client waits.
pub async fn export<S: Synthesizer + 'static, M: ChatModel + 'static>(
    State(app): State<Arc<App<S, M>>>,
) -> Result<Response, ApiError> {
    let exporting = app.clone();
    let task = tokio::spawn(async move {
        let app = exporting;
        let mut session = app.session.lock().await;
        app.begin("exporting the dubbed video".into());
        let done = session.export(&app.output).await;
        match &done {
            Ok(path) => app.end(format!("exported {}", path.display())),
            Err(e) => app.end(format!("the export failed: {}", chain(e))),
        }
        done.map_err(|e| ApiError(StatusCode::BAD_GATEWAY, chain(&e)))
    });
    let path = task.await.map_err(|stopped| {
        let message = format!("the export stopped: {stopped}");
        app.end(message.clone());
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, message)
    })??;
    Ok(Json(json!({ "path": path.display().to_string() })).into_response())
}

/// `GET /api/status`: `busy`, what the server is doing (a sentence, or null), and `last`, how the
/// last edit or export ended (or null).
pub async fn status<S: Synthesizer + 'static, M: ChatModel + 'static>(
    State(app): State<Arc<App<S, M>>>,
) -> Response {
    Json(app.status()).into_response()
}
