//! Which channel is which in the source's audio, and so where its dialogue is.
//!
//! ffprobe names the layout when it knows it (`5.1(side)`), and says `unknown` for many MP4 AAC
//! and Matroska streams; then the layout is ffmpeg's default for the channel count (6 → `5.1`,
//! 8 → `7.1`), which is also what ffmpeg itself assumes when it decodes them. Every named layout
//! with a front-centre channel has it third (FL FR FC …): that channel is the dialogue.

use serde::{Deserialize, Serialize};

/// Channel layouts ffmpeg names, with their channels in order.
const LAYOUTS: &[(&str, &[&str])] = &[
    ("mono", &["FC"]),
    ("stereo", &["FL", "FR"]),
    ("2.1", &["FL", "FR", "LFE"]),
    ("3.0", &["FL", "FR", "FC"]),
    ("3.0(back)", &["FL", "FR", "BC"]),
    ("4.0", &["FL", "FR", "FC", "BC"]),
    ("quad", &["FL", "FR", "BL", "BR"]),
    ("quad(side)", &["FL", "FR", "SL", "SR"]),
    ("3.1", &["FL", "FR", "FC", "LFE"]),
    ("5.0", &["FL", "FR", "FC", "BL", "BR"]),
    ("5.0(side)", &["FL", "FR", "FC", "SL", "SR"]),
    ("4.1", &["FL", "FR", "FC", "LFE", "BC"]),
    ("5.1", &["FL", "FR", "FC", "LFE", "BL", "BR"]),
    ("5.1(side)", &["FL", "FR", "FC", "LFE", "SL", "SR"]),
    ("6.0", &["FL", "FR", "FC", "BC", "SL", "SR"]),
    ("hexagonal", &["FL", "FR", "FC", "BL", "BR", "BC"]),
    ("6.1", &["FL", "FR", "FC", "LFE", "BC", "SL", "SR"]),
    ("6.1(back)", &["FL", "FR", "FC", "LFE", "BL", "BR", "BC"]),
    ("7.0", &["FL", "FR", "FC", "BL", "BR", "SL", "SR"]),
    ("7.1", &["FL", "FR", "FC", "LFE", "BL", "BR", "SL", "SR"]),
    (
        "7.1(wide)",
        &["FL", "FR", "FC", "LFE", "BL", "BR", "FLC", "FRC"],
    ),
    (
        "7.1(wide-side)",
        &["FL", "FR", "FC", "LFE", "FLC", "FRC", "SL", "SR"],
    ),
    (
        "octagonal",
        &["FL", "FR", "FC", "BL", "BR", "BC", "SL", "SR"],
    ),
];

/// ffmpeg's default layout for a channel count (`av_channel_layout_default`).
const DEFAULTS: [&str; 8] = ["mono", "stereo", "2.1", "4.0", "5.0", "5.1", "6.1", "7.1"];

/// The layouts Opus (and so MKV/WebM output) can carry, by channel count: the Vorbis layouts.
const OPUS: [&str; 8] = ["mono", "stereo", "3.0", "quad", "5.0", "5.1", "6.1", "7.1"];

/// WAVE channel-mask bits, by ffmpeg channel name.
const MASK_BITS: &[(&str, u32)] = &[
    ("FL", 0x1),
    ("FR", 0x2),
    ("FC", 0x4),
    ("LFE", 0x8),
    ("BL", 0x10),
    ("BR", 0x20),
    ("FLC", 0x40),
    ("FRC", 0x80),
    ("BC", 0x100),
    ("SL", 0x200),
    ("SR", 0x400),
];

/// The source's channel layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// Channels, as the extracted audio has them.
    pub channels: u16,
    /// ffmpeg's name for the layout (`stereo`, `5.1(side)`); `N channels` when it has none.
    pub name: String,
}

/// What the layout offers for taking the original voice out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One channel: voice and music are one signal.
    Mono,
    /// Two channels, left and right.
    Stereo,
    /// A front-centre channel (the dialogue channel of 5.1 and 7.1) at this index.
    Centre(usize),
    /// Several channels, none of them a centre.
    Other,
}

impl Layout {
    /// The layout of `channels` channels that ffprobe calls `name` (`None` or `unknown` when it
    /// does not know; then ffmpeg's default for the count). A name that does not match the count
    /// is ignored the same way.
    pub fn new(channels: u16, name: Option<&str>) -> Self {
        let named = name
            .and_then(|n| LAYOUTS.iter().find(|(l, _)| *l == n))
            .filter(|(_, chans)| chans.len() == usize::from(channels))
            .map(|(l, _)| l.to_string());
        let name =
            named.unwrap_or_else(
                || match DEFAULTS.get(usize::from(channels).wrapping_sub(1)) {
                    Some(d) => d.to_string(),
                    None => format!("{channels} channels"),
                },
            );
        Self { channels, name }
    }

    /// The layout ffmpeg calls `name`, if it is one of the named layouts.
    pub fn named(name: &str) -> Option<Self> {
        LAYOUTS.iter().find(|(l, _)| *l == name).map(|(l, c)| Self {
            channels: c.len() as u16,
            name: l.to_string(),
        })
    }

    fn names(&self) -> Option<&'static [&'static str]> {
        LAYOUTS
            .iter()
            .find(|(l, _)| *l == self.name)
            .map(|(_, c)| *c)
    }

    /// What the layout offers for separation.
    pub fn shape(&self) -> Shape {
        match self.channels {
            1 => Shape::Mono,
            2 => Shape::Stereo,
            _ => match self.names().and_then(|c| c.iter().position(|&n| n == "FC")) {
                Some(i) => Shape::Centre(i),
                None => Shape::Other,
            },
        }
    }

    /// The channels the original dialogue is measured on and the dub is placed in: the centre
    /// where there is one, else the front pair (mono: its one channel).
    pub fn voice_channels(&self) -> Vec<usize> {
        match self.shape() {
            Shape::Mono => vec![0],
            Shape::Centre(c) => vec![c],
            Shape::Stereo | Shape::Other => vec![0, 1],
        }
    }

    /// The WAVE channel mask (0: unknown, for layouts without a name).
    pub fn wave_mask(&self) -> u32 {
        self.names().map_or(0, |chans| {
            chans
                .iter()
                .filter_map(|c| MASK_BITS.iter().find(|(n, _)| n == c))
                .fold(0, |m, (_, b)| m | b)
        })
    }

    /// The layout to tag on an encoded track: the layout itself, except that Opus only knows the
    /// Vorbis layouts, so there a side-surround 5.1 is written as 5.1 (the same speakers by
    /// count). `None` when there is no name to give.
    pub fn tag_for(&self, opus: bool) -> Option<String> {
        let by_count = |table: &[&str; 8]| {
            table
                .get(usize::from(self.channels).wrapping_sub(1))
                .map(|s| s.to_string())
        };
        if opus {
            by_count(&OPUS)
        } else {
            self.names().map(|_| self.name.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_from_probe() {
        let side = Layout::new(6, Some("5.1(side)"));
        assert_eq!(side.name, "5.1(side)");
        assert_eq!(side.shape(), Shape::Centre(2));
        assert_eq!(side.wave_mask(), 0x60F);
        assert_eq!(side.tag_for(true).as_deref(), Some("5.1"));
        assert_eq!(side.tag_for(false).as_deref(), Some("5.1(side)"));
        assert_eq!(Layout::new(6, Some("unknown")).name, "5.1");
        assert_eq!(Layout::new(8, None).shape(), Shape::Centre(2));
        assert_eq!(Layout::new(8, None).wave_mask(), 0x63F);
        assert_eq!(Layout::new(2, Some("5.1")).name, "stereo");
        assert_eq!(Layout::new(2, None).shape(), Shape::Stereo);
        assert_eq!(Layout::new(1, None).shape(), Shape::Mono);
        assert_eq!(Layout::new(4, Some("quad")).shape(), Shape::Other);
        assert_eq!(Layout::new(4, Some("quad")).voice_channels(), vec![0, 1]);
        let many = Layout::new(12, None);
        assert_eq!((many.name.as_str(), many.wave_mask()), ("12 channels", 0));
        assert_eq!(many.tag_for(false), None);
        assert_eq!(Layout::new(0, None).name, "0 channels");
        assert_eq!(Layout::named("7.1").map(|l| l.channels), Some(8));
        assert_eq!(Layout::named("9.2"), None);
    }
}
