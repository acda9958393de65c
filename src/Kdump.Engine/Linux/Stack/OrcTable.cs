using System.Buffers.Binary;

namespace Kdump.Engine.Linux.Stack;

/// <summary>
/// One ORC table (the kernel image's, or one module's): instruction addresses sorted ascending, each with the
/// entry that applies from it up to the next address. Built from the raw arrays as they are in memory:
/// .orc_unwind_ip holds s32 offsets relative to each slot's own address, .orc_unwind holds 6-byte entries.
/// </summary>
public sealed class OrcTable
{
    /// <summary>Hard limit on entries in one table (a distribution kernel has about 400 000).</summary>
    public const int MaxEntries = 8_000_000;

    private readonly ulong[] _ip;
    private readonly OrcEntry[] _entry;

    public string Name { get; }
    public OrcFormat Format { get; }
    /// <summary>The text range this table answers for ([Start, End)); lookups outside return null.</summary>
    public ulong Start { get; }
    public ulong End { get; }
    public int Count => _ip.Length;

    private OrcTable(string name, OrcFormat format, ulong[] ip, OrcEntry[] entry, ulong start, ulong end)
    {
        Name = name; Format = format; _ip = ip; _entry = entry; Start = start; End = end;
    }

    /// <summary>
    /// Parses raw tables. <paramref name="ipTableAddress"/> is the address of .orc_unwind_ip (the base of the
    /// relative offsets). The text range defaults to the lowest .. highest address in the table.
    /// </summary>
    public static OrcTable Parse(string name, ulong ipTableAddress, ReadOnlySpan<byte> ipTable, ReadOnlySpan<byte> entries, OrcFormat format,
        ulong? textStart = null, ulong? textEnd = null, OrcRegisterMap? registers = null)
    {
        if (ipTable.Length % 4 != 0 || entries.Length % 6 != 0 || ipTable.Length / 4 != entries.Length / 6)
            throw new KdumpException("OrcTableCorrupt", KdumpErrorKind.InvalidData,
                $"ORC table '{name}': {ipTable.Length} bytes of instruction offsets do not match {entries.Length} bytes of entries.", name);
        int n = ipTable.Length / 4;
        if (n > MaxEntries)
            throw new KdumpException("OrcTableTooLarge", KdumpErrorKind.LimitExceeded, $"ORC table '{name}' has {n} entries (limit {MaxEntries}).", name);
        var ips = new ulong[n];
        var ents = new OrcEntry[n];
        bool sorted = true;
        for (int i = 0; i < n; i++)
        {
            int off = BinaryPrimitives.ReadInt32LittleEndian(ipTable[(i * 4)..]);
            ips[i] = unchecked(ipTableAddress + (ulong)(i * 4) + (ulong)(long)off);
            var e = entries.Slice(i * 6, 6);
            ents[i] = OrcEntry.Decode(BinaryPrimitives.ReadInt16LittleEndian(e), BinaryPrimitives.ReadInt16LittleEndian(e[2..]),
                BinaryPrimitives.ReadUInt16LittleEndian(e[4..]), format, registers);
            if (i > 0 && ips[i] < ips[i - 1]) sorted = false;
        }
        if (!sorted)
        {
            // Module tables are sorted by the kernel at load time, vmlinux's since 5.6; sort anyway when they are not.
            var idx = Enumerable.Range(0, n).ToArray();
            Array.Sort(idx, (a, b) => ips[a] != ips[b] ? ips[a].CompareTo(ips[b]) : IsTerminator(ents[a]).CompareTo(IsTerminator(ents[b])));
            ips = idx.Select(i => ips[i]).ToArray();
            ents = idx.Select(i => ents[i]).ToArray();
        }
        ulong lo = n > 0 ? ips[0] : 0, hi = n > 0 ? ips[^1] + 1 : 0;
        return new OrcTable(name, format, ips, ents, textStart ?? lo, textEnd ?? hi);
    }

    private static bool IsTerminator(OrcEntry e) => e.Type == OrcType.Undefined;

    /// <summary>True when the table answers for <paramref name="ip"/>.</summary>
    public bool Covers(ulong ip) => ip >= Start && ip < End && _ip.Length > 0 && ip >= _ip[0];

    /// <summary>The entry for an instruction address: the last entry at or below it (the real one when a terminator shares its address).</summary>
    public OrcEntry? Find(ulong ip)
    {
        if (!Covers(ip)) return null;
        int lo = 0, hi = _ip.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (int)(((uint)lo + (uint)hi) >> 1);
            if (_ip[mid] <= ip) { found = mid; lo = mid + 1; } else hi = mid - 1;
        }
        if (found < 0) return null;
        // Several entries at one address: prefer one that is not a terminator.
        int j = found;
        while (j > 0 && _ip[j - 1] == _ip[found] && IsTerminator(_entry[j])) j--;
        return _entry[j];
    }
}
