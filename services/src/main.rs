//! The `ticketd` binary; the command line itself is `ticketd::cli`.

fn main() -> std::process::ExitCode {
    ticketd::cli::main()
}
