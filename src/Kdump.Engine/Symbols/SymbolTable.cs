using System.Runtime.InteropServices;
using System.Text;

namespace Kdump.Engine.Symbols;

/// <summary>
/// A compact, immutable, address-sorted symbol table: names as UTF-8 in one byte array, addresses/types/sizes in
/// parallel arrays, and an open-addressing name index over the UTF-8 bytes. ~100k symbols cost a few MB and no
/// per-symbol objects; <see cref="KSymbol"/>s are created only when asked for. Any finder (kallsyms, System.map,
/// vmlinux ELF, module symbols) can build one with <see cref="SymbolTableBuilder"/> and expose it as an
/// <see cref="ISymbolFinder"/>.
/// </summary>
public sealed class SymbolTable : ISymbolFinder
{
    private readonly byte[] _names;
    private readonly int[] _nameStart;   // per symbol (address order)
    private readonly int[] _nameLength;
    private readonly ulong[] _address;
    private readonly byte[] _type;
    private readonly ulong[]? _size;     // null when no symbol has a size; ulong.MaxValue = unknown
    private readonly int[] _hash;        // open addressing; value = symbol index + 1, 0 = empty
    private readonly ulong _lookupLow, _lookupHigh;

    public string Source { get; }
    public string? Module { get; }
    public int Count => _address.Length;

    internal SymbolTable(string source, string? module, byte[] names, int[] nameStart, int[] nameLength, ulong[] address,
        byte[] type, ulong[]? size, ulong lookupLow, ulong lookupHigh)
    {
        Source = source; Module = module; _names = names; _nameStart = nameStart; _nameLength = nameLength;
        _address = address; _type = type; _size = size; _lookupLow = lookupLow; _lookupHigh = lookupHigh;
        int cap = 16;
        while (cap < address.Length * 2) cap <<= 1;
        _hash = new int[cap];
        for (int i = 0; i < address.Length; i++) Insert(i);
    }

    /// <summary>Lowest address the table places addresses in (address lookups below it return null).</summary>
    public ulong LookupLow => _lookupLow;
    /// <summary>One past the highest address the table places addresses in.</summary>
    public ulong LookupHigh => _lookupHigh;

    private ReadOnlySpan<byte> NameBytes(int i) => _names.AsSpan(_nameStart[i], _nameLength[i]);

    private static uint Hash(ReadOnlySpan<byte> s)
    {
        ulong h = 0xcbf29ce484222325UL ^ (ulong)s.Length;
        while (s.Length >= 8)
        {
            h = (h ^ System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(s)) * 0x100000001b3UL;
            h ^= h >> 29;
            s = s[8..];
        }
        foreach (var b in s) { h = (h ^ b) * 0x100000001b3UL; }
        h ^= h >> 32;
        h *= 0x9e3779b97f4a7c15UL;
        return (uint)(h >> 32);
    }

    private void Insert(int i)
    {
        int mask = _hash.Length - 1;
        var name = NameBytes(i);
        int slot = (int)(Hash(name) & (uint)mask);
        while (true)
        {
            int v = _hash[slot];
            if (v == 0) { _hash[slot] = i + 1; return; }
            int j = v - 1;
            if (NameBytes(j).SequenceEqual(name))
            {
                // Same name twice (static functions in several files): keep the global one, else the first.
                if (!IsUpper(_type[j]) && IsUpper(_type[i])) _hash[slot] = i + 1;
                return;
            }
            slot = (slot + 1) & mask;
        }
    }

    private static bool IsUpper(byte c) => c is >= (byte)'A' and <= (byte)'Z';

    private int IndexOf(string name)
    {
        int max = Encoding.UTF8.GetMaxByteCount(name.Length);
        Span<byte> buf = max <= 512 ? stackalloc byte[max] : new byte[max];
        int n = Encoding.UTF8.GetBytes(name, buf);
        var key = buf[..n];
        int mask = _hash.Length - 1;
        int slot = (int)(Hash(key) & (uint)mask);
        while (true)
        {
            int v = _hash[slot];
            if (v == 0) return -1;
            if (NameBytes(v - 1).SequenceEqual(key)) return v - 1;
            slot = (slot + 1) & mask;
        }
    }

    /// <summary>The symbol at index <paramref name="i"/> in address order.</summary>
    public KSymbol this[int i] => new(Encoding.UTF8.GetString(NameBytes(i)), _address[i], (char)_type[i],
        _size is null || _size[i] == ulong.MaxValue ? null : _size[i], Module);

    public KSymbol? FindByName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        int i = IndexOf(name);
        return i < 0 ? null : this[i];
    }

    /// <summary>Address of a symbol by name without creating a KSymbol.</summary>
    public bool TryGetAddress(string name, out ulong address)
    {
        int i = IndexOf(name);
        address = i < 0 ? 0 : _address[i];
        return i >= 0;
    }

    public SymbolOffset? FindByAddress(ulong address)
    {
        if (address < _lookupLow || address >= _lookupHigh || _address.Length == 0) return null;
        // last index with _address[i] <= address
        int lo = 0, hi = _address.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            if (_address[mid] <= address) { found = mid; lo = mid + 1; } else hi = mid - 1;
        }
        if (found < 0 || _address[found] < _lookupLow) return null;
        // Among symbols at the same address prefer a global one, then the first.
        ulong a = _address[found];
        int best = found;
        for (int k = found; k >= 0 && _address[k] == a; k--)
            if (IsUpper(_type[k]) && !IsUpper(_type[best])) best = k; else if (IsUpper(_type[k]) == IsUpper(_type[best])) best = k;
        ulong offset = address - a;
        if (offset != 0)
        {
            if (_size is not null && _size[best] is var sz && sz != ulong.MaxValue && sz != 0)
            {
                if (offset >= sz) return null;
            }
            else
            {
                // unknown size: the symbol extends to the next higher address (or the table's end)
                int next = found + 1;
                if (next < _address.Length && address >= _address[next]) return null;
            }
        }
        return new SymbolOffset(this[best], offset);
    }

    public IEnumerable<KSymbol> Enumerate()
    {
        for (int i = 0; i < _address.Length; i++) yield return this[i];
    }

    /// <summary>Bytes held by the table's arrays (for benchmarks and reporting).</summary>
    public long ApproximateBytes => _names.Length + (long)_nameStart.Length * 8 + _address.Length * 9L + (_size?.Length ?? 0) * 8L + _hash.Length * 4L;
}

/// <summary>Collects symbols (in any order) and builds a <see cref="SymbolTable"/>.</summary>
public sealed class SymbolTableBuilder
{
    /// <summary>Refuses to grow past this many symbols (a corrupt table must not exhaust memory).</summary>
    public const int MaxSymbols = 4_000_000;
    private byte[] _names = new byte[1 << 16];
    private int _namesUsed;
    private readonly List<(ulong Address, int Start, int Length, byte Type, ulong Size)> _entries = new();
    private bool _anySize;

    public int Count => _entries.Count;

    public void Add(ReadOnlySpan<byte> utf8Name, ulong address, char type, ulong? size = null)
    {
        if (_entries.Count >= MaxSymbols)
            throw new KdumpException("SymbolTableTooLarge", KdumpErrorKind.LimitExceeded, $"More than {MaxSymbols} symbols.", _entries.Count);
        if (_namesUsed + utf8Name.Length > _names.Length)
        {
            long want = Math.Max((long)_names.Length * 2, _namesUsed + utf8Name.Length);
            if (want > int.MaxValue / 2)
                throw new KdumpException("SymbolTableTooLarge", KdumpErrorKind.LimitExceeded, "Symbol names exceed the size limit.", want);
            Array.Resize(ref _names, (int)want);
        }
        utf8Name.CopyTo(_names.AsSpan(_namesUsed));
        _entries.Add((address, _namesUsed, utf8Name.Length, (byte)(type <= 0x7f ? type : '?'), size ?? ulong.MaxValue));
        _namesUsed += utf8Name.Length;
        if (size is not null) _anySize = true;
    }

    public void Add(string name, ulong address, char type, ulong? size = null) => Add(Encoding.UTF8.GetBytes(name), address, type, size);

    /// <summary>Builds the table. Address lookups are answered only for addresses in [lookupLow, lookupHigh).</summary>
    public SymbolTable Build(string source, string? module = null, ulong lookupLow = 0, ulong lookupHigh = ulong.MaxValue)
    {
        var span = CollectionsMarshal.AsSpan(_entries);
        int n = span.Length;
        var addr = new ulong[n];
        var order = new int[n];
        for (int i = 0; i < n; i++) { addr[i] = span[i].Address; order[i] = i; }
        Array.Sort(addr, order);
        // equal addresses keep the order they were added in
        for (int i = 0; i < n;)
        {
            int j = i + 1;
            while (j < n && addr[j] == addr[i]) j++;
            if (j - i > 1) Array.Sort(order, i, j - i);
            i = j;
        }
        var start = new int[n]; var len = new int[n]; var type = new byte[n];
        var size = _anySize ? new ulong[n] : null;
        for (int i = 0; i < n; i++)
        {
            ref var e = ref span[order[i]];
            start[i] = e.Start; len[i] = e.Length; type[i] = e.Type;
            if (size is not null) size[i] = e.Size;
        }
        var names = _names.AsSpan(0, _namesUsed).ToArray();
        return new SymbolTable(source, module, names, start, len, addr, type, size, lookupLow, lookupHigh);
    }
}
