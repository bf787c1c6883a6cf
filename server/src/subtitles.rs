//! Plain-text, SubRip (SRT) and WebVTT renderings of a transcript.

use stt_engine::Transcript;

/// `HH:MM:SS<sep>mmm`, the time format both subtitle formats use.
fn clock(seconds: f64, separator: char) -> String {
    let total_ms = (seconds.max(0.0) * 1000.0).round() as u64;
    let (h, rem) = (total_ms / 3_600_000, total_ms % 3_600_000);
    let (m, rem) = (rem / 60_000, rem % 60_000);
    let (s, ms) = (rem / 1000, rem % 1000);
    format!("{h:02}:{m:02}:{s:02}{separator}{ms:03}")
}

pub fn to_text(t: &Transcript) -> String {
    if t.text.is_empty() {
        String::new()
    } else {
        format!("{}\n", t.text)
    }
}

pub fn to_srt(t: &Transcript) -> String {
    let mut out = String::new();
    for (i, s) in t.segments.iter().enumerate() {
        out.push_str(&format!(
            "{}\n{} --> {}\n{}\n\n",
            i + 1,
            clock(s.start_s, ','),
            clock(s.end_s, ','),
            s.text.trim()
        ));
    }
    out
}

pub fn to_vtt(t: &Transcript) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for s in &t.segments {
        out.push_str(&format!(
            "{} --> {}\n{}\n\n",
            clock(s.start_s, '.'),
            clock(s.end_s, '.'),
            s.text.trim()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_formats_hours_minutes_and_millis() {
        assert_eq!(clock(0.0, ','), "00:00:00,000");
        assert_eq!(clock(3723.456, ','), "01:02:03,456");
        assert_eq!(clock(59.9996, '.'), "00:01:00.000");
    }
}
