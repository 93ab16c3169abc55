//! The `spinesim` command; everything is in the library's [`spinesim::cli`].

fn main() -> std::process::ExitCode {
    spinesim::cli::main()
}
