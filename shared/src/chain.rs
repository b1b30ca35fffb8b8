//! The one std-only helper every layer needs to log a failure: its whole cause chain on one line.
//! A leaf: it imports nothing from this crate, so the store, telemetry and the HTTP face can all
//! use it without importing each other.

/// `outer: inner: innermost`, the whole `source()` chain on one line.
pub fn cause_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    #[test]
    fn joins_every_cause() {
        let err = Layer(
            "outer",
            Some(Box::new(Layer(
                "inner",
                Some(Box::new(Layer("root", None))),
            ))),
        );
        assert_eq!(cause_chain(&err), "outer: inner: root");
    }
}
