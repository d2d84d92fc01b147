/// Takes secrets out of text the server sent, before it is stored in an error or logged.
///
/// A server that refuses a handshake command may quote it back: with `AUTH` renamed
/// away, Redis answers `ERR unknown command 'AUTH', with args beginning with: '<password>'`.
/// Redis cuts the quoted arguments at 128 bytes, so a long password may appear only in
/// part: everything after that phrase goes, as well as every whole occurrence of a secret.
enum SecretRedaction {
    /// What stands in for a removed secret.
    static let placeholder = "***"

    /// The phrase after which Redis quotes a refused command's arguments.
    private static let quotedArguments = "with args beginning with:"

    /// `text` without any of `secrets` (empty ones ignored) or the arguments it quotes.
    static func redacting(_ secrets: [String], in text: String) -> String {
        var result = text
        if let phrase = result.range(of: quotedArguments) {
            result = String(result[..<phrase.upperBound]) + " " + placeholder
        }
        for secret in secrets where !secret.isEmpty {
            result = result.replacing(secret, with: placeholder)
        }
        return result
    }
}
