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
//! page reads is a snapshot published after each render, so reading never waits.

pub mod api;
pub mod auth;
pub mod media;
pub mod page;
pub mod project;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use axum::extract::State;
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
    status: Mutex<Option<String>>,
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

    fn set_status(&self, busy: Option<String>) {
        match self.status.lock() {
            Ok(mut s) => *s = busy,
            Err(poisoned) => *poisoned.into_inner() = busy,
        }
    }

    fn status(&self) -> Option<String> {
        match self.status.lock() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
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
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, opts.port));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| StudioError::Bind { addr, source })?;
        let port = listener
            .local_addr()
            .map_err(|source| StudioError::Bind { addr, source })?
            .port();
        let token = auth::new_token().map_err(|e| StudioError::Token(e.to_string()))?;
        let app = Arc::new(App {
            snapshot: RwLock::new(Arc::new(Project::of(&session, 0))),
            session: tokio::sync::Mutex::new(session),
            version: AtomicU64::new(0),
            status: Mutex::new(None),
            editor,
            output: opts.output,
        });
        let guard = Arc::new(auth::Guard {
            token: token.clone(),
            port,
        });
        let router = routes(app).layer(axum::middleware::from_fn_with_state(guard, auth::check));
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
