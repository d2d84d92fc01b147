import Foundation

/// Runs a reference tool to completion and returns its standard output, or `nil` when it
/// could not start or exited with a failure. Standard error is discarded: the tools'
/// figures are on standard output.
func runToCompletion(_ executable: String, _ arguments: [String]) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return nil }
    // Read before waiting: a large output would otherwise fill the pipe and stall the tool.
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
}
