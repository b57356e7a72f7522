//! `dubber studio`: a page on 127.0.0.1 to review a dub, fix one line and hear it re-rendered.
//!
//! The server is a thin layer over a [`Session`], which does the work (re-synthesis through the
//! cache, the plan, the render): [`api`] answers the page's JSON requests, [`media`] streams the
//! video and the dub track with Range requests, [`auth`] locks the server to this machine's user
//! (token, Host, CSRF), [`project`] shapes what the page shows, and [`page`] is the page itself
//! (plain HTML, CSS and JavaScript compiled into the binary: no build step, no CDN, offline).
//!
//! The session sits behind one async mutex: edits (and the export) run one at a time, so two tabs
//! never write subs.srt at once and an edit that arrives during a render waits for it. What the
//! page reads is a snapshot published after each render, so reading never waits. An edit runs in
//! a task of its own, to the end, whether or not its client waits for the answer; `/api/status`
//! says how the last one ended. Every error is answered as `{"error": ...}` ([`errors`]).

pub mod api;
pub mod auth;
pub mod errors;
pub mod media;
pub mod page;
pub mod project;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, patch, post};

use crate::llm::{ChatModel, LineEditor};
use crate::pipeline::synth::session::Session;
use crate::tts::Synthesizer;
pub use project::{Line, Project};

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum StudioError {
    #[error("listening on {addr}: {source} (pass --port to choose another port)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("making the session token: {0}")]
    Token(String),
    #[error("serving: {0}")]
    Serve(std::io::Error),
}

/// How the server runs.
#[derive(Debug, Clone)]
pub struct StudioOptions {
    /// The port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Where `POST /api/export` writes the dubbed video.
    pub output: PathBuf,
}

/// What every handler shares.
pub struct App<S, M> {
    session: tokio::sync::Mutex<Session<S>>,
    snapshot: RwLock<Arc<Project>>,
    version: AtomicU64,
    status: Mutex<Status>,
    editor: Option<LineEditor<M>>,
    output: PathBuf,
}

impl<S: Synthesizer, M> App<S, M> {
    /// The project as last published.
    pub fn snapshot(&self) -> Arc<Project> {
        match self.snapshot.read() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Publish `session`'s project as a new version, and return it.
    fn publish(&self, session: &Session<S>) -> Arc<Project> {
        let version = self.version.fetch_add(1, Ordering::SeqCst) + 1;
        let project = Arc::new(Project::of(session, version));
        match self.snapshot.write() {
            Ok(mut p) => *p = project.clone(),
            Err(poisoned) => *poisoned.into_inner() = project.clone(),
        }
        project
    }

    fn with_status<T>(&self, change: impl FnOnce(&mut Status) -> T) -> T {
        match self.status.lock() {
            Ok(mut s) => change(&mut s),
            Err(poisoned) => change(&mut poisoned.into_inner()),
        }
    }

    /// Work under way: `busy` says what.
    fn begin(&self, busy: String) {
        self.with_status(|s| s.busy = Some(busy));
    }

    /// The work under way ended: `last` says how.
    fn end(&self, last: String) {
        self.with_status(|s| {
            *s = Status {
                busy: None,
                last: Some(last),
            }
        });
    }

    fn status(&self) -> Status {
        self.with_status(|s| s.clone())
    }
}

/// What `/api/status` answers.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Status {
    /// What the server is doing, or null.
    pub busy: Option<String>,
    /// How the last edit or export ended (applied, or refused or undone and why), or null.
    pub last: Option<String>,
}

/// A port on 127.0.0.1 taken before the slow work of opening a session (the first render), so
/// that a busy port fails at once.
pub struct Listener {
    listener: tokio::net::TcpListener,
    port: u16,
}

impl Listener {
    /// Listen on 127.0.0.1:`port`; 0 picks a free port.
    pub async fn bind(port: u16) -> Result<Listener, StudioError> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| StudioError::Bind { addr, source })?;
        let port = listener
            .local_addr()
            .map_err(|source| StudioError::Bind { addr, source })?
            .port();
        Ok(Listener { listener, port })
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

/// A bound server, not yet serving.
pub struct Studio {
    listener: tokio::net::TcpListener,
    router: Router,
    url: String,
    token: String,
    port: u16,
}

impl Studio {
    /// Listen on 127.0.0.1 for `session`; `editor` (the chat model) enables "Shorten".
    pub async fn bind<S, M>(
        session: Session<S>,
        editor: Option<LineEditor<M>>,
        opts: StudioOptions,
    ) -> Result<Studio, StudioError>
    where
        S: Synthesizer + 'static,
        M: ChatModel + 'static,
    {
        let listener = Listener::bind(opts.port).await?;
        Studio::new(listener, session, editor, opts.output)
    }

    /// Serve `session` on a port already taken; `output` is where the export writes.
    pub fn new<S, M>(
        listener: Listener,
        session: Session<S>,
        editor: Option<LineEditor<M>>,
        output: PathBuf,
    ) -> Result<Studio, StudioError>
    where
        S: Synthesizer + 'static,
        M: ChatModel + 'static,
    {
        let Listener { listener, port } = listener;
        let token = auth::new_token().map_err(|e| StudioError::Token(e.to_string()))?;
        let app = Arc::new(App {
            snapshot: RwLock::new(Arc::new(Project::of(&session, 0))),
            session: tokio::sync::Mutex::new(session),
            version: AtomicU64::new(0),
            status: Mutex::new(Status::default()),
            editor,
            output,
        });
        let guard = Arc::new(auth::Guard {
            token: token.clone(),
            port,
        });
        let router = routes(app)
            .layer(axum::middleware::from_fn_with_state(guard, auth::check))
            .layer(axum::middleware::from_fn(errors::as_json));
        Ok(Studio {
            listener,
            router,
            url: format!("http://127.0.0.1:{port}/?token={token}"),
            token,
            port,
        })
    }

    /// The page's address, with the token.
    pub fn url(&self) -> &str {
        &self.url
    }
    pub fn token(&self) -> &str {
        &self.token
    }
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serve until the future is dropped (or the listener fails).
    pub async fn serve(self) -> Result<(), StudioError> {
        axum::serve(self.listener, self.router)
            .await
            .map_err(StudioError::Serve)
    }
}

fn routes<S: Synthesizer + 'static, M: ChatModel + 'static>(app: Arc<App<S, M>>) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/app.js", get(page::script))
        .route("/style.css", get(page::style))
        .route("/api/project", get(api::project::<S, M>))
        .route("/api/status", get(api::status::<S, M>))
        .route("/api/lines/{id}", patch(api::edit_line::<S, M>))
        .route("/api/lines/{id}/shorten", post(api::shorten_line::<S, M>))
        .route("/api/export", post(api::export::<S, M>))
        .route("/media/video", get(video::<S, M>))
        .route("/media/dub", get(dub::<S, M>))
        .layer(DefaultBodyLimit::max(errors::MAX_BODY))
        .with_state(app)
}

async fn video<S: Synthesizer + 'static, M: ChatModel + 'static>(
    State(app): State<Arc<App<S, M>>>,
    headers: HeaderMap,
) -> Response {
    let path = app.session.lock().await.video().to_path_buf();
    media::serve(&path, &headers, media::video_type(&path)).await
}

async fn dub<S: Synthesizer + 'static, M: ChatModel + 'static>(
    State(app): State<Arc<App<S, M>>>,
    headers: HeaderMap,
) -> Response {
    // Waits for a render under way: the track served is always a finished one.
    let path = app.session.lock().await.track();
    media::serve(&path, &headers, "audio/wav").await
}
