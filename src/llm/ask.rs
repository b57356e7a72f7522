//! Ask, validate, ask again: the loop every operation on a chat model goes through, and the cache
//! that remembers only answers that passed.
//!
//! A tool that caches raw replies replays a malformed one forever; here a reply is written to the
//! cache only after its validator accepted it, and a cached reply is validated again when read
//! (a cache file from an older, laxer version is simply asked again).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{ChatMessage, ChatModel, LlmError, quote_reply};

/// Bumped when the prompts or the cache file format change, so old entries stop matching.
const CACHE_VERSION: u32 = 1;

/// A directory of validated model replies, one JSON file per request, named by the SHA-256 of
/// everything that determines the answer (model identity and the messages sent).
#[derive(Debug, Clone)]
pub struct ReplyCache {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct CacheEntry {
    version: u32,
    model: String,
    reply: String,
}

impl ReplyCache {
    /// A cache in `dir`, created if missing.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, LlmError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|source| LlmError::Cache {
            path: dir.clone(),
            source,
        })?;
        Ok(Self { dir })
    }

    /// The directory the entries live in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key of a request: hex SHA-256 over the cache version, model identity and messages.
    pub fn key(model_identity: &str, messages: &[ChatMessage]) -> String {
        let mut hash = Sha256::new();
        hash.update(CACHE_VERSION.to_le_bytes());
        hash.update(model_identity.as_bytes());
        hash.update([0]);
        // serde_json of our own message type cannot fail.
        hash.update(serde_json::to_vec(messages).unwrap_or_default());
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The cached reply for `key`, if there is a readable entry.
    pub fn get(&self, key: &str) -> Option<String> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        let entry: CacheEntry = serde_json::from_slice(&bytes).ok()?;
        (entry.version == CACHE_VERSION).then_some(entry.reply)
    }

    /// Stores a reply that passed validation: written to a temporary file in the same directory,
    /// then renamed, so readers never see half an entry.
    pub fn put(&self, key: &str, model_identity: &str, reply: &str) -> Result<(), LlmError> {
        let path = self.path(key);
        let err = |source| LlmError::Cache {
            path: path.clone(),
            source,
        };
        let entry = CacheEntry {
            version: CACHE_VERSION,
            model: model_identity.to_string(),
            reply: reply.to_string(),
        };
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir).map_err(err)?;
        serde_json::to_writer(&mut tmp, &entry).map_err(|e| err(e.into()))?;
        tmp.persist(&path).map_err(|e| err(e.error))?;
        Ok(())
    }
}

/// Asks `model`, validates the reply with `validate`, and on a validation error asks again with
/// the error and the rejected reply in the conversation, up to `max_tries` replies in all. Returns
/// the first valid result; fails with [`LlmError::InvalidReply`] quoting the last reply.
///
/// `task` names the request in errors ("polish lines 1-20"). With a cache, a cached reply that
/// still validates is returned without asking, and only a valid reply is stored.
pub async fn ask_validated<M, T, F>(
    model: &M,
    cache: Option<&ReplyCache>,
    task: &str,
    messages: Vec<ChatMessage>,
    max_tries: usize,
    validate: F,
) -> Result<T, LlmError>
where
    M: ChatModel + ?Sized,
    F: Fn(&str) -> Result<T, String>,
{
    let identity = model.identity();
    let key = ReplyCache::key(&identity, &messages);
    if let Some(cached) = cache.and_then(|c| c.get(&key)) {
        match validate(&cached) {
            Ok(value) => return Ok(value),
            Err(e) => tracing::debug!("ignoring cached reply for {task}: {e}"),
        }
    }
    let max_tries = max_tries.max(1);
    let mut conversation = messages;
    let mut last_error = String::new();
    let mut last_reply = String::new();
    for attempt in 1..=max_tries {
        let reply = model.complete(&conversation).await?;
        match validate(&reply) {
            Ok(value) => {
                // A cache that cannot be written costs a repeated request later, not this run.
                if let Some(Err(e)) = cache.map(|c| c.put(&key, &identity, &reply)) {
                    tracing::warn!("could not cache the reply for {task}: {e}");
                }
                return Ok(value);
            }
            Err(error) => {
                tracing::warn!("invalid reply for {task} (try {attempt} of {max_tries}): {error}");
                if attempt < max_tries {
                    conversation.push(ChatMessage::assistant(reply.clone()));
                    conversation.push(ChatMessage::user(format!(
                        "Your reply was invalid: {error}. Answer the same request again, \
                         with only the corrected JSON."
                    )));
                }
                last_error = error;
                last_reply = reply;
            }
        }
    }
    Err(LlmError::InvalidReply {
        task: task.to_string(),
        attempts: max_tries,
        error: last_error,
        reply: quote_reply(&last_reply),
    })
}
