//! How alike a speaker encoder finds the turns of a recording whose speakers are known: embeds
//! every turn of an RTTM file (`SPEAKER <file> 1 <start> <duration> <NA> <NA> <name> ...`) from
//! a 16 kHz mono WAV and prints the cosine matrix, then the mean similarity of turns of one
//! speaker and of turns of different speakers. A quick check of an encoder on real speech.
//!
//! ```text
//! cargo run --example speaker_similarity -- sample.wav sample.rttm [ecapa|ge2e]
//! ```

use std::path::Path;

use anyhow::{Context, bail};
use dubber::models::DataDir;
use dubber::speakers::{EcapaEncoder, Ge2eEncoder, SpeakerEncoder};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [wav, rttm, rest @ ..] = args.as_slice() else {
        bail!("usage: speaker_similarity WAV RTTM [ecapa|ge2e]");
    };
    let data = DataDir::from_env()?;
    let encoder: Box<dyn SpeakerEncoder> = match rest.first().map(String::as_str) {
        Some("ge2e") => Box::new(Ge2eEncoder::from_data_dir(&data)?),
        _ => Box::new(EcapaEncoder::from_data_dir(&data)?),
    };
    let mut reader = hound::WavReader::open(Path::new(wav)).context("read the WAV")?;
    let spec = reader.spec();
    if spec.sample_rate != encoder.sample_rate() || spec.channels != 1 {
        bail!("{wav}: need {} Hz mono", encoder.sample_rate());
    }
    let audio: Vec<f32> = reader
        .samples::<i16>()
        .map(|s| s.map(|s| f32::from(s) / 32_768.0))
        .collect::<Result<_, _>>()?;
    let rate = f64::from(spec.sample_rate);
    let mut turns = Vec::new();
    for line in std::fs::read_to_string(rttm)?.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 || f[0] != "SPEAKER" {
            continue;
        }
        let (start, dur): (f64, f64) = (f[3].parse()?, f[4].parse()?);
        let a = ((start * rate) as usize).min(audio.len());
        let b = (((start + dur) * rate) as usize).min(audio.len());
        turns.push((f[7].to_string(), start, &audio[a..b]));
    }
    let pieces: Vec<&[f32]> = turns.iter().map(|t| t.2).collect();
    let embeddings = encoder.embed(&pieces)?;
    println!("{}: cosine of every pair of turns", encoder.name());
    let (mut same, mut other) = (Vec::new(), Vec::new());
    for (i, (name, start, piece)) in turns.iter().enumerate() {
        let row: Vec<String> = embeddings
            .iter()
            .map(|e| format!("{:5.2}", embeddings[i].cosine(e)))
            .collect();
        let secs = piece.len() as f64 / rate;
        println!("{name:>10} {start:6.2}s {secs:4.1}s  {}", row.join(" "));
        for (j, e) in embeddings.iter().enumerate().skip(i + 1) {
            let c = embeddings[i].cosine(e);
            if turns[j].0 == *name {
                same.push(c)
            } else {
                other.push(c)
            }
        }
    }
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len().max(1) as f32;
    let range = |v: &[f32]| {
        let lo = v.iter().copied().fold(f32::MAX, f32::min);
        let hi = v.iter().copied().fold(f32::MIN, f32::max);
        format!("{lo:.2}..{hi:.2}")
    };
    println!(
        "same speaker: mean {:.3} ({}), different speakers: mean {:.3} ({})",
        mean(&same),
        range(&same),
        mean(&other),
        range(&other)
    );
    Ok(())
}
