//! `spinesim export-sbml`: a model as SBML Level 3 Version 2.

use super::{CliError, ExportArgs};
use crate::error::RunError;
use crate::model::load_model;
use crate::sbml::write::{to_sbml, ProtocolChoice};

/// Writes the model as SBML; features dropped with `--lossy` and notes go to stderr.
pub fn export(args: ExportArgs) -> Result<(), CliError> {
    let model = load_model(&args.model)?;
    let choice = match args.protocol.as_deref() {
        None => ProtocolChoice::Default,
        Some("none") if model.protocol("none").is_none() => ProtocolChoice::None,
        Some(name) => ProtocolChoice::Named(name),
    };
    let exported = to_sbml(&model, choice, args.lossy)
        .map_err(|e| CliError::Usage(format!("{}: {e}", args.model.display())))?;
    if args.out.exists() && !args.force {
        return Err(CliError::Usage(format!(
            "{} already exists; pass --force to replace it",
            args.out.display()
        )));
    }
    std::fs::write(&args.out, &exported.xml).map_err(|e| RunError::io(&args.out, e))?;
    for d in &exported.dropped {
        eprintln!("spinesim: dropped: {d}");
    }
    for n in &exported.notes {
        eprintln!("spinesim: note: {n}");
    }
    Ok(())
}
