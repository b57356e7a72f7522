//! The estimate for people: dollar amounts, counts and the cost table.
//!
//! Takes an [`Estimate`] and writes one row per stage (stage, engine, quantity, cost), the total
//! of the priced stages, and for each unpriced engine a line saying which price-file entry to
//! add. Formatting only: no number is computed here that the estimate does not hold. Separate so
//! that the layout can change without touching what is estimated.

use std::fmt;

use super::estimate::Estimate;
use super::{EngineKind, StageCost};

impl StageCost {
    fn quantity(&self) -> String {
        let u = &self.usage;
        match self.kind {
            EngineKind::Stt => format!("{:.1} min of audio", u.minutes),
            EngineKind::Chat => format!(
                "{} in + {} out tokens",
                thousands(u.input_tokens),
                thousands(u.output_tokens)
            ),
            EngineKind::Tts => format!("{} chars (~{:.1} min)", thousands(u.chars), u.minutes),
        }
    }
}

/// A dollar amount: four decimals below $10 (single requests cost fractions of a cent), two above.
pub fn format_usd(usd: f64) -> String {
    if usd.abs() >= 10.0 {
        format!("${usd:.2}")
    } else {
        format!("${usd:.4}")
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A table with one row per stage and the total, costs in `$`.
impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<[String; 4]> = self
            .stages
            .iter()
            .map(|s| {
                let cost = s.usd.map_or_else(|| "unknown".to_string(), format_usd);
                [s.stage.clone(), s.engine.clone(), s.quantity(), cost]
            })
            .collect();
        let header = ["stage", "engine", "quantity", "cost"].map(String::from);
        let total_label = if self.unpriced().next().is_some() {
            "total (priced stages)"
        } else {
            "total"
        };
        let total = [
            total_label.to_string(),
            String::new(),
            String::new(),
            format_usd(self.total_usd()),
        ];
        let all: Vec<&[String; 4]> = std::iter::once(&header)
            .chain(&rows)
            .chain(std::iter::once(&total))
            .collect();
        let width = |c: usize| all.iter().map(|r| r[c].chars().count()).max().unwrap_or(0);
        let widths = [width(0), width(1), width(2), width(3)];
        let line = |f: &mut fmt::Formatter<'_>, r: &[String; 4]| {
            writeln!(
                f,
                "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}",
                r[0],
                r[1],
                r[2],
                r[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3]
            )
        };
        line(f, &header)?;
        for row in &rows {
            line(f, row)?;
        }
        writeln!(f, "{}", "-".repeat(widths.iter().sum::<usize>() + 6))?;
        line(f, &total)?;
        for s in self.unpriced() {
            writeln!(
                f,
                "no price known for {} ({}); add [{}.\"{}\"] to a price file",
                s.engine,
                s.stage,
                match s.kind {
                    EngineKind::Stt => "stt",
                    EngineKind::Chat => "chat",
                    EngineKind::Tts => "tts",
                },
                s.engine
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_counts_are_formatted() {
        assert_eq!(format_usd(0.3), "$0.3000");
        assert_eq!(format_usd(0.000_16), "$0.0002");
        assert_eq!(format_usd(12.345), "$12.35");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
