/// Compares two signatures without stopping at the first difference, so the time taken says
/// nothing about how much of a forged signature was right.
public func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let a = Array(a.utf8), b = Array(b.utf8)
    return a.count == b.count && zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
}
