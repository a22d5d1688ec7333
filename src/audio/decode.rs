//! Decoding audio files (wav, flac, mp3, ogg/vorbis) to mono `f32` with symphonia.

use std::fs::File;
use std::path::{Path, PathBuf};

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// A decoded clip: mono samples in -1..1 at `sample_rate`.
#[derive(Clone, Debug)]
pub struct AudioClip {
    /// Mono samples (channels averaged).
    pub samples: Vec<f32>,
    /// Samples per second.
    pub sample_rate: u32,
}

impl AudioClip {
    /// Length in seconds.
    pub fn duration(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate.max(1))
    }
}

/// Why a file could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The file could not be opened.
    #[error("{path}: cannot open audio file: {error}")]
    Open {
        /// The file.
        path: PathBuf,
        /// The I/O error (in the message, not repeated as a source).
        error: std::io::Error,
    },
    /// The container or codec is not recognised.
    #[error("{path}: not a supported audio file (wav, flac, mp3, ogg): {reason}")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What symphonia said.
        reason: String,
    },
    /// The stream is damaged beyond the first packets.
    #[error("{path}: audio data is corrupt or truncated: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What symphonia said.
        reason: String,
    },
    /// The file decoded to nothing.
    #[error("{path}: file contains no audio samples")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// Decodes a whole file to mono `f32`.
///
/// A stream that breaks off part-way (a truncated download, say) keeps what
/// decoded before the break and logs a warning; a file that yields no samples is
/// an error.
pub fn decode_file(path: &Path) -> Result<AudioClip, DecodeError> {
    let decoded = decode_file_report(path)?;
    if let Some(e) = decoded.ended_early {
        tracing::warn!(
            "{}: the file ended early, at {:.2} s of the {:.2} s its header declares (cut short?); using what is there",
            path.display(),
            e.decoded_s,
            e.declared_s
        );
    }
    Ok(decoded.clip)
}

/// A file that has fewer samples than its header declares.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EndedEarly {
    /// Seconds actually decoded.
    pub decoded_s: f64,
    /// Seconds the header declares.
    pub declared_s: f64,
}

/// A decoded file and what was wrong with it that did not stop decoding.
#[derive(Clone, Debug)]
pub struct Decoded {
    /// The audio.
    pub clip: AudioClip,
    /// Set when the stream stopped before the length its header declares.
    pub ended_early: Option<EndedEarly>,
}

/// Like [`decode_file`], returning what was wrong instead of logging it.
pub fn decode_file_report(path: &Path) -> Result<Decoded, DecodeError> {
    let file = File::open(path).map_err(|error| DecodeError::Open {
        path: path.to_owned(),
        error,
    })?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let unsupported = |e: SymphoniaError| DecodeError::Unsupported {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            mss,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(unsupported)?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| DecodeError::Unsupported {
            path: path.to_owned(),
            reason: "no audio track".into(),
        })?;
    let track_id = track.id;
    let declared_frames = track.codec_params.n_frames;
    let mut sample_rate = track.codec_params.sample_rate.unwrap_or(0);
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(unsupported)?;

    let mut samples = Vec::new();
    let mut buf: Option<SampleBuffer<f32>> = None;
    let mut errors = 0usize;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break;
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => {
                if samples.is_empty() {
                    return Err(DecodeError::Corrupt {
                        path: path.to_owned(),
                        reason: e.to_string(),
                    });
                }
                tracing::warn!("{}: stream ended early: {e}", path.display());
                break;
            }
        };
        if packet.track_id() != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(decoded) => {
                let spec = *decoded.spec();
                sample_rate = spec.rate;
                let channels = spec.channels.count().max(1);
                let needed = decoded.capacity() as u64;
                let sb = match &mut buf {
                    Some(sb) if sb.capacity() as u64 >= needed * channels as u64 => sb,
                    _ => buf.insert(SampleBuffer::new(needed, spec)),
                };
                sb.copy_interleaved_ref(decoded);
                downmix_into(sb.samples(), channels, &mut samples);
            }
            Err(SymphoniaError::DecodeError(e)) => {
                errors += 1;
                if errors > 16 {
                    return Err(DecodeError::Corrupt {
                        path: path.to_owned(),
                        reason: e.to_string(),
                    });
                }
            }
            Err(SymphoniaError::IoError(_)) => break,
            Err(e) => {
                return Err(DecodeError::Corrupt {
                    path: path.to_owned(),
                    reason: e.to_string(),
                });
            }
        }
    }
    if samples.is_empty() || sample_rate == 0 {
        return Err(DecodeError::Empty {
            path: path.to_owned(),
        });
    }
    let clip = AudioClip {
        samples,
        sample_rate,
    };
    // More than 10 ms short of the declared length: the file was cut.
    let ended_early = declared_frames
        .map(|n| n as f64 / f64::from(sample_rate))
        .filter(|declared| declared - clip.duration() > 0.01)
        .map(|declared_s| EndedEarly {
            decoded_s: clip.duration(),
            declared_s,
        });
    Ok(Decoded { clip, ended_early })
}

/// Appends the mono average of interleaved `frames` with `channels` channels to `out`.
pub fn downmix_into(interleaved: &[f32], channels: usize, out: &mut Vec<f32>) {
    let channels = channels.max(1);
    if channels == 1 {
        out.extend_from_slice(interleaved);
        return;
    }
    let scale = 1.0 / channels as f32;
    out.extend(
        interleaved
            .chunks_exact(channels)
            .map(|f| f.iter().sum::<f32>() * scale),
    );
}

/// Writes mono samples as a 16-bit WAV file (used for the demo track and tests).
pub fn write_wav(path: &Path, samples: &[f32], sample_rate: u32) -> Result<(), hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec)?;
    for &s in samples {
        let v = (s.clamp(-1.0, 1.0) * 32767.0).round() as i16;
        w.write_sample(v)?;
    }
    w.finalize()
}
