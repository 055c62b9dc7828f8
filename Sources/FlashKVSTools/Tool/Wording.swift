/// `1 sector`, `2 sectors`: a count and its noun, singular for one.
/// - Parameter plural: the plural when it is not the noun plus "s" ("entries").
public func counted(_ count: Int, _ noun: String, plural: String? = nil) -> String {
    "\(count) " + (count == 1 ? noun : plural ?? noun + "s")
}
