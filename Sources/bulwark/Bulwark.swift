import ArgumentParser

@main
struct Bulwark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bulwark",
        abstract: "Bulwark: an authoritative DNS server built to keep answering under attack.",
        subcommands: [ServeCommand.self, CheckCommand.self, StatusCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
