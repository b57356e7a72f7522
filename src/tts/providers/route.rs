//! Several voices behind one engine: a cast's speakers each speak with their own engine and
//! voice, and the batch runner, the cache and second takes still see one [`Synthesizer`].
//!
//! [`Routed`] holds the run's default engine (the flags' voice) and one [`AnyEngine`] per voice a
//! request names in [`SynthRequest::route`] (`engine:voice`, as a cast spells it), loaded by a
//! loader the caller supplies (the CLI: it knows the data dir and the keys) the first time a
//! batch asks for it ([`Synthesizer::prepare`]), then kept. A request with no route goes to the
//! default engine unchanged, so a video without speakers is synthesized, and cached, exactly as
//! without a cast. Every per-request method answers for the engine the request is routed to.
//!
//! Why loading on demand: the speakers of `dubber run`'s videos are known only once each video
//! is prepared, and a studio edit may name a new speaker; the engine is still built once, at the
//! CLI edge.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::AnyEngine;
use crate::tts::engine::Synthesizer;
use crate::tts::error::SynthError;
use crate::tts::request::{Limits, SynthAudio, SynthRequest};

/// Builds the engine of a route (`engine:voice`); called on a blocking thread.
pub type VoiceLoader = dyn Fn(&str) -> Result<AnyEngine, SynthError> + Send + Sync;

/// The default engine and the voices requests are routed to. See the module doc.
pub struct Routed {
    default: Arc<AnyEngine>,
    loader: Arc<VoiceLoader>,
    routes: RwLock<HashMap<String, Arc<AnyEngine>>>,
}

impl std::fmt::Debug for Routed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Routed")
            .field("default", &self.default)
            .field("routes", &self.loaded())
            .finish()
    }
}

impl Routed {
    /// `default` for requests with no route; `loader` builds the engine of a route.
    pub fn new(
        default: AnyEngine,
        loader: impl Fn(&str) -> Result<AnyEngine, SynthError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            default: Arc::new(default),
            loader: Arc::new(loader),
            routes: RwLock::new(HashMap::new()),
        }
    }

    /// Requests routed to `route` (the default engine's own voice, as a cast names it) are
    /// spoken by the default engine instead of a second copy of it (a Piper voice is a model
    /// in memory).
    pub fn with_default_route(self, route: impl Into<String>) -> Self {
        self.routes
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(route.into(), Arc::clone(&self.default));
        self
    }

    /// The routes loaded so far, sorted.
    pub fn loaded(&self) -> Vec<String> {
        let mut names: Vec<String> = self.read().keys().cloned().collect();
        names.sort();
        names
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<AnyEngine>>> {
        self.routes
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn engine_of(&self, route: &str) -> Option<Arc<AnyEngine>> {
        self.read().get(route).cloned()
    }

    /// `f` of the engine `req` is routed to; `unloaded` when its route is not loaded (the
    /// request then fails when sent).
    fn answer<T>(&self, req: &SynthRequest, f: impl Fn(&AnyEngine) -> T, unloaded: T) -> T {
        match &req.route {
            None => f(&self.default),
            Some(route) => self.engine_of(route).map_or(unloaded, |e| f(&e)),
        }
    }
}

impl Synthesizer for Routed {
    async fn synthesize(&self, req: &SynthRequest) -> Result<SynthAudio, SynthError> {
        match &req.route {
            None => self.default.synthesize(req).await,
            Some(route) => {
                let engine = self.engine_of(route).ok_or_else(|| {
                    SynthError::Config(format!("voice {route} was not loaded before synthesis"))
                })?;
                engine.synthesize(req).await
            }
        }
    }

    fn cache_signature(&self) -> String {
        self.default.cache_signature()
    }

    fn limits(&self) -> Limits {
        self.default.limits()
    }

    /// The strictest hint of the engines in use: the runner has one window for the batch.
    fn concurrency_hint(&self) -> Option<usize> {
        let routes = self.read();
        std::iter::once(self.default.concurrency_hint())
            .chain(routes.values().map(|e| e.concurrency_hint()))
            .flatten()
            .min()
    }

    fn native_speed(&self) -> bool {
        self.default.native_speed()
    }

    fn cache_signature_for(&self, req: &SynthRequest) -> String {
        let unloaded = format!("unloaded:{}", req.route.as_deref().unwrap_or_default());
        self.answer(req, |e| e.cache_signature_for(req), unloaded)
    }

    fn limits_for(&self, req: &SynthRequest) -> Limits {
        self.answer(req, |e| e.limits_for(req), self.default.limits_for(req))
    }

    fn native_speed_for(&self, req: &SynthRequest) -> bool {
        self.answer(req, |e| e.native_speed_for(req), false)
    }

    /// Load every route the requests name that is not loaded yet (on a blocking thread: a local
    /// voice reads its model), then let the default engine prepare its own requests.
    async fn prepare(&self, requests: &[SynthRequest]) -> Result<(), SynthError> {
        let mut wanted: Vec<String> = requests.iter().filter_map(|r| r.route.clone()).collect();
        wanted.sort();
        wanted.dedup();
        for route in wanted {
            if self.engine_of(&route).is_some() {
                continue;
            }
            let loader = Arc::clone(&self.loader);
            let name = route.clone();
            let engine = tokio::task::spawn_blocking(move || loader(&name))
                .await
                .map_err(|e| SynthError::Engine(format!("loading voice {route} failed: {e}")))?
                .map_err(|e| match e {
                    SynthError::Config(m) => SynthError::Config(format!("voice {route}: {m}")),
                    other => other,
                })?;
            self.routes
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .entry(route)
                .or_insert_with(|| Arc::new(engine));
        }
        let own: Vec<SynthRequest> = requests
            .iter()
            .filter(|r| r.route.is_none())
            .cloned()
            .collect();
        match own.is_empty() {
            true => Ok(()),
            false => self.default.prepare(&own).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tts::EspeakTts;
    use crate::tts::engine::probe::{ProbeEngine, assert_forwards};

    fn espeak_router() -> Routed {
        Routed::new(AnyEngine::new(ProbeEngine), |route| {
            match route.strip_prefix("espeak:") {
                Some(voice) => Ok(AnyEngine::new(EspeakTts::new(voice)?)),
                None => Err(SynthError::Config("no such engine".into())),
            }
        })
    }

    #[tokio::test]
    async fn requests_without_a_route_go_to_the_default_engine_unchanged() {
        assert_forwards(&espeak_router()).await;
    }

    #[tokio::test]
    async fn a_routed_request_is_spoken_and_keyed_by_its_own_voice() {
        let router = espeak_router();
        let mut req = SynthRequest::new("Hello there.", "en-us+f3", "espeak-ng");
        req.route = Some("espeak:en-us+f3".into());
        assert!(router.cache_signature_for(&req).starts_with("unloaded:"));
        router.prepare(std::slice::from_ref(&req)).await.unwrap();
        assert_eq!(router.loaded(), ["espeak:en-us+f3"]);
        let signature = router.cache_signature_for(&req);
        assert!(signature.starts_with("espeak-ng:") && signature.ends_with(":en-us+f3"));
        assert!(!router.native_speed_for(&req));
        assert_eq!(
            router.limits_for(&req).speed,
            crate::local_tts::espeak::SPEED_RANGE
        );
        let audio = router.synthesize(&req).await.unwrap();
        assert!(audio.decode().unwrap().frames() > 1000);
        // The default engine still answers for requests without a route.
        let plain = SynthRequest::new("Hello there.", "v", "m");
        assert_eq!(router.cache_signature_for(&plain), "probe-signature-for-v");

        let mut bad = req.clone();
        bad.route = Some("festival:kal".into());
        let err = router
            .prepare(&[bad.clone()])
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("festival:kal") && err.contains("no such engine"),
            "{err}"
        );
        assert!(router.synthesize(&bad).await.is_err());
    }

    #[tokio::test]
    async fn the_default_voice_named_by_a_cast_is_the_default_engine() {
        let router = Routed::new(AnyEngine::new(ProbeEngine), |route| {
            Err(SynthError::Config(format!("{route} must not be loaded")))
        })
        .with_default_route("probe:native");
        // The probe answers native speed for the voice `native` only.
        let mut req = SynthRequest::new("hi", "native", "m");
        req.route = Some("probe:native".into());
        router.prepare(std::slice::from_ref(&req)).await.unwrap();
        assert_eq!(
            router.cache_signature_for(&req),
            "probe-signature-for-native"
        );
        assert!(router.native_speed_for(&req));
        let err = router.synthesize(&req).await.unwrap_err().to_string();
        assert_eq!(err, "probe: hi", "spoken by the default engine");
    }
}
