//! Decoding any clip a TTS engine returns (WAV, MP3, FLAC, Ogg Vorbis, raw 16-bit PCM) to one
//! mono buffer.
//!
//! Other modules use [`decode`] to check that a service really sent audio, so it must return an
//! error, never panic, on whatever bytes arrive (an HTML error page, a JSON error, a cut-off
//! download). Symphonia is defensive, but a panic in a codec on hostile input must not take the
//! whole run down, so decoding runs under `catch_unwind` as a last line of defence.

use super::{AudioError, Clip};
use std::io::Cursor;
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// Decodes a whole audio file held in memory and downmixes it to mono.
///
/// `hint` is a file extension or format name (`"wav"`, `"mp3"`, `"flac"`, `"ogg"`); it only helps
/// the probe, the content decides. Packets that fail to decode are skipped (as players do); if
/// nothing decodes, or the bytes are not audio, the error describes what the bytes looked like.
pub fn decode(bytes: &[u8], hint: Option<&str>) -> Result<Clip, AudioError> {
    let what = describe(bytes, hint);
    if bytes.is_empty() {
        return Err(AudioError::Decode {
            what,
            reason: "no bytes".into(),
        });
    }
    let owned = bytes.to_vec();
    let hint_owned = hint.map(str::to_owned);
    let result = std::panic::catch_unwind(move || decode_inner(owned, hint_owned.as_deref()));
    match result {
        Ok(Ok(clip)) if clip.samples.is_empty() => Err(AudioError::NoSamples { what }),
        Ok(Ok(clip)) => Ok(clip),
        Ok(Err(reason)) => Err(AudioError::Decode { what, reason }),
        Err(_) => Err(AudioError::Decode {
            what,
            reason: "the decoder panicked".into(),
        }),
    }
}

/// Raw little-endian signed 16-bit mono PCM, as OpenAI (`pcm`, 24 kHz) and ElevenLabs
/// (`pcm_22050`, `pcm_24000`, ...) send it.
pub fn decode_pcm16(bytes: &[u8], rate: u32) -> Result<Clip, AudioError> {
    if rate == 0 {
        return Err(AudioError::InvalidRate { rate });
    }
    if !bytes.len().is_multiple_of(2) {
        return Err(AudioError::OddPcmLength { len: bytes.len() });
    }
    let samples = le_i16(bytes).map(|s| f32::from(s) / 32768.0).collect();
    Ok(Clip { rate, samples })
}

/// Little-endian 16-bit samples; a trailing odd byte is ignored (callers check the length).
pub(crate) fn le_i16(bytes: &[u8]) -> impl Iterator<Item = i16> + '_ {
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
}

fn decode_inner(bytes: Vec<u8>, hint: Option<&str>) -> Result<Clip, String> {
    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut probe_hint = Hint::new();
    if let Some(h) = hint {
        probe_hint.with_extension(h.trim_start_matches('.'));
    }
    let probed = symphonia::default::get_probe()
        .format(
            &probe_hint,
            mss,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| format!("not a recognised audio container: {e}"))?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or("no audio track")?;
    let track_id = track.id;
    let mut rate = track.codec_params.sample_rate.unwrap_or(0);
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| format!("unsupported codec: {e}"))?;

    let mut mono: Vec<f32> = Vec::new();
    let mut interleaved: Option<SampleBuffer<f32>> = None;
    let (mut decoded_packets, mut failed_packets) = (0usize, 0usize);
    let mut last_error = String::new();
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            // End of stream, or a stream cut off mid-packet: keep what decoded.
            Err(SymError::IoError(_)) | Err(SymError::ResetRequired) => break,
            Err(e) => {
                if decoded_packets == 0 {
                    return Err(format!("reading packets: {e}"));
                }
                break;
            }
        };
        if packet.track_id() != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buf) => {
                let spec = *buf.spec();
                let channels = spec.channels.count().max(1);
                if rate == 0 {
                    rate = spec.rate;
                }
                let frames = buf.frames();
                let sb = match &mut interleaved {
                    Some(sb) if sb.capacity() >= buf.capacity() * channels => sb,
                    slot => slot.insert(SampleBuffer::<f32>::new(buf.capacity() as u64, spec)),
                };
                sb.copy_interleaved_ref(buf);
                let data = &sb.samples()[..frames * channels];
                if channels == 1 {
                    mono.extend_from_slice(data);
                } else {
                    let scale = 1.0 / channels as f32;
                    mono.extend(
                        data.chunks_exact(channels)
                            .map(|f| f.iter().sum::<f32>() * scale),
                    );
                }
                decoded_packets += 1;
            }
            Err(SymError::DecodeError(e)) => {
                failed_packets += 1;
                last_error = e.to_string();
            }
            Err(SymError::IoError(_)) => break,
            Err(e) => return Err(format!("decoding: {e}")),
        }
    }
    if decoded_packets == 0 && failed_packets > 0 {
        return Err(format!(
            "all {failed_packets} packets failed to decode ({last_error})"
        ));
    }
    if !(1000..=768_000).contains(&rate) {
        return Err(format!("implausible sample rate {rate} Hz"));
    }
    // Codecs may emit non-finite values from corrupt data; silence them rather than poison the mix.
    for s in &mut mono {
        if !s.is_finite() {
            *s = 0.0;
        }
    }
    Ok(Clip {
        rate,
        samples: mono,
    })
}

/// A short description of the bytes for error messages: size, hint, and the start when it is text.
fn describe(bytes: &[u8], hint: Option<&str>) -> String {
    let mut what = format!("{} bytes", bytes.len());
    if let Some(h) = hint {
        what.push_str(&format!(", hint {h}"));
    }
    let head = &bytes[..bytes.len().min(80)];
    let printable = !head.is_empty()
        && head
            .iter()
            .all(|&b| b == b'\n' || b == b'\r' || b == b'\t' || (0x20..0x7f).contains(&b));
    if printable {
        let text = String::from_utf8_lossy(head);
        what.push_str(&format!(", looks like text: {:?}", text.trim()));
    }
    what
}
