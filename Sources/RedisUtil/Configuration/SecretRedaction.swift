/// Takes secrets out of text the server sent, before it is stored in an error or logged.
///
/// A server that refuses a handshake command may quote it back: with `AUTH` renamed
/// away, Redis answers `ERR unknown command 'AUTH', with args beginning with: '<password>'`.
/// Redis cuts the quoted arguments at 128 bytes, so a long password may appear only in
/// part: everything after that phrase goes, as well as every quoted occurrence of a
/// secret, and every bare one of a secret long enough not to be part of ordinary words.
enum SecretRedaction {
    /// What stands in for a removed secret.
    static let placeholder = "***"

    /// Secrets shorter than this are removed only where quoted.
    static let minimumBareLength = 6

    /// The phrase after which Redis quotes a refused command's arguments.
    private static let quotedArguments = "with args beginning with:"

    /// `text` without any of `secrets` or the arguments it quotes.
    static func redacting(_ secrets: [String], in text: String) -> String {
        var result = text
        if let phrase = result.range(of: quotedArguments) {
            result = String(result[..<phrase.upperBound]) + " " + placeholder
        }
        for secret in secrets where !secret.isEmpty {
            // Redis quotes arguments; unquoted, a short secret would match inside
            // ordinary words ("p" in "password") and mangle the message for nothing.
            result = result.replacing("'\(secret)'", with: placeholder)
            if secret.count >= minimumBareLength { result = result.replacing(secret, with: placeholder) }
        }
        return result
    }
}
