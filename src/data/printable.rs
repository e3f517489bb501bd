//! Text from files and names made safe to show on a terminal.

/// `s` safe to print on a terminal: control characters (escape codes, newlines) are shown as
/// `\u{..}` escapes instead of being interpreted.
pub fn printable(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}
