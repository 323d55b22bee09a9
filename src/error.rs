//! The errors of a run (exit code 2): a configuration that cannot be used, a source that
//! cannot be read, a usage error. At the bottom: every layer may return them.

use std::fmt;

/// A configuration that cannot be used. Exit code 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The config file (as given or found).
    pub file: String,
    /// 1-based line and column of the offending value, when known.
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// Dotted path of the field: `environments[1].tag_pattern`.
    pub field: String,
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        if self.field.is_empty() {
            write!(f, ": {}", self.message)?;
        } else {
            write!(f, ": `{}`: {}", self.field, self.message)?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// A source that cannot be read. Exit code 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceError {
    pub message: String,
    pub help: Option<String>,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SourceError {}

/// A run that could not be done (exit code 2).
#[derive(Debug)]
pub enum Error {
    Config(ConfigError),
    Source(SourceError),
    Usage {
        message: String,
        help: Option<String>,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => write!(f, "invalid configuration: {e}"),
            Error::Source(e) => write!(f, "{e}"),
            Error::Usage { message, help } => {
                write!(f, "{message}")?;
                if let Some(h) = help {
                    write!(f, "\n  help: {h}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<SourceError> for Error {
    fn from(e: SourceError) -> Self {
        Error::Source(e)
    }
}
