namespace Kdump.Engine.Symbols;

/// <summary>
/// A source of kernel symbols. Finders are ordered (vmlinux ELF, kallsyms from the dump, System.map, modules);
/// a finder that does not know a name or an address returns null/false and the next finder is asked.
/// Implementations must be thread-safe for concurrent readers once constructed.
/// </summary>
public interface ISymbolFinder
{
    /// <summary>Where the symbols come from, e.g. "kallsyms in the dump" or "System.map /boot/System.map-6.1.0-18-amd64".</summary>
    string Source { get; }

    /// <summary>Number of symbols this finder holds (for reporting).</summary>
    int Count { get; }

    /// <summary>Finds a symbol by exact name; prefers a global symbol when several share the name. Null when unknown.</summary>
    KSymbol? FindByName(string name);

    /// <summary>
    /// Finds the symbol that contains <paramref name="address"/>: the nearest symbol at or below it, provided the
    /// address lies within the symbol's size (when known) or before the next symbol (when not) and inside the
    /// range the finder covers. Null when the finder cannot place the address.
    /// </summary>
    SymbolOffset? FindByAddress(ulong address);

    /// <summary>All symbols in address order (for wildcard searches and listings).</summary>
    IEnumerable<KSymbol> Enumerate();
}

/// <summary>Ordered symbol finders: the first finder that answers wins.</summary>
public sealed class SymbolFinderChain : ISymbolFinder
{
    private readonly List<ISymbolFinder> _finders = new();
    private readonly object _lock = new();

    public SymbolFinderChain(IEnumerable<ISymbolFinder>? finders = null)
    {
        if (finders is not null) _finders.AddRange(finders);
    }

    /// <summary>The finders, in the order they are asked.</summary>
    public IReadOnlyList<ISymbolFinder> Finders { get { lock (_lock) return _finders.ToArray(); } }

    public string Source => string.Join("; ", Finders.Select(f => f.Source));
    public int Count => Finders.Sum(f => f.Count);

    /// <summary>Adds a finder at the end (lowest priority) or at <paramref name="index"/>.</summary>
    public void Add(ISymbolFinder finder, int? index = null)
    {
        ArgumentNullException.ThrowIfNull(finder);
        lock (_lock)
        {
            if (index is { } i) _finders.Insert(Math.Clamp(i, 0, _finders.Count), finder);
            else _finders.Add(finder);
        }
    }

    public bool Remove(ISymbolFinder finder) { lock (_lock) return _finders.Remove(finder); }

    public KSymbol? FindByName(string name)
    {
        foreach (var f in Finders)
            if (f.FindByName(name) is { } s) return s;
        return null;
    }

    public SymbolOffset? FindByAddress(ulong address)
    {
        foreach (var f in Finders)
            if (f.FindByAddress(address) is { } s) return s;
        return null;
    }

    /// <summary>Symbols of every finder; a name already yielded by an earlier finder is not repeated.</summary>
    public IEnumerable<KSymbol> Enumerate()
    {
        var seen = new HashSet<(string, ulong, string?)>();
        foreach (var f in Finders)
            foreach (var s in f.Enumerate())
                if (seen.Add((s.Name, s.Address, s.Module))) yield return s;
    }
}
