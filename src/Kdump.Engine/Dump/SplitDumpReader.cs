namespace Kdump.Engine.Dump;

/// <summary>
/// A makedumpfile --split set: several kdump-compressed parts with identical headers, each holding the pages of
/// [start_pfn_64, end_pfn_64). Pages are served by the part whose range holds them; together they must cover
/// [0, max_mapnr) without a gap.
/// </summary>
internal sealed class SplitDumpReader : IDumpReader
{
    private readonly KdumpCompressedReader[] _parts;
    private readonly ulong[] _starts;

    public DumpHeaderInfo Info { get; }
    public int PageSize { get; }
    public ulong MaxPfn { get; }
    public bool IsCompressed => true;
    internal IReadOnlyList<KdumpCompressedReader> Parts => _parts;

    /// <summary>Takes ownership of the parts; checks they are one set and cover every pfn.</summary>
    public SplitDumpReader(IReadOnlyList<KdumpCompressedReader> parts)
    {
        if (parts.Count == 0) throw new ArgumentException("no parts", nameof(parts));
        var sorted = parts.OrderBy(p => p.SplitStart).ToArray();
        var first = sorted[0];
        string names = string.Join(", ", sorted.Select(p => $"'{p.Path}'"));
        foreach (var p in sorted)
        {
            if (p.Header.Identity != first.Header.Identity)
                throw DumpErrors.SplitMismatch(p.Path, $"its header (kernel, time, block size, max_mapnr) differs from '{first.Path}'s");
        }
        ulong expect = 0;
        foreach (var p in sorted)
        {
            if (p.SplitStart > expect)
                throw DumpErrors.SplitIncomplete(names, $"no part holds page frames [{expect}, {p.SplitStart}) (physical 0x{expect * (ulong)first.PageSize:x}-0x{p.SplitStart * (ulong)first.PageSize:x}); add the missing part's path");
            if (p.SplitStart < expect)
                throw DumpErrors.SplitMismatch(p.Path, $"its range [{p.SplitStart}, {p.SplitEnd}) overlaps another part's");
            expect = p.SplitEnd;
        }
        if (expect < first.MaxPfn)
            throw DumpErrors.SplitIncomplete(names, $"no part holds page frames [{expect}, {first.MaxPfn}) (physical 0x{expect * (ulong)first.PageSize:x}-0x{first.MaxPfn * (ulong)first.PageSize:x}); add the missing part's path");
        _parts = sorted;
        _starts = sorted.Select(p => p.SplitStart).ToArray();
        PageSize = first.PageSize;
        MaxPfn = first.MaxPfn;
        Info = first.Info;
        Info.Format = DumpFormat.Split;
        Info.PayloadFormat = DumpFormat.KdumpCompressed;
        Info.DumpedPages = (ulong)sorted.Sum(p => (long)p.Info.DumpedPages);
        Info.Incomplete = sorted.Any(p => p.Info.Incomplete);
        Info.LostPages = (ulong)sorted.Sum(p => (long)(p.Info.LostPages ?? 0));
        foreach (var p in sorted.Where(p => !ReferenceEquals(p.Info, Info))) Info.Problems.AddRange(p.Info.Problems.Select(x => $"part '{p.Path}': {x}"));
        Info.Explanation.Add($"split set of {sorted.Length} parts: " + string.Join("; ", sorted.Select(p => $"'{p.Path}' pfns [{p.SplitStart}, {p.SplitEnd})")));
        if (Info.VmcoreInfo is null) Info.VmcoreInfo = sorted.Select(p => p.Info.VmcoreInfo).FirstOrDefault(v => v is not null);
    }

    private KdumpCompressedReader? PartFor(ulong pfn)
    {
        int i = Array.BinarySearch(_starts, pfn);
        if (i < 0) i = ~i - 1;
        if (i < 0) return null;
        var p = _parts[i];
        return pfn < p.SplitEnd ? p : null;
    }

    public PageStatus GetPageStatus(ulong pfn) => PartFor(pfn)?.GetPageStatus(pfn) ?? PageStatus.NotInDump;
    public PageStatus ReadPage(ulong pfn, Span<byte> destination) => ReadPage(pfn, destination, out _);
    public PageStatus ReadPage(ulong pfn, Span<byte> destination, out string? detail)
    {
        detail = null;
        var p = PartFor(pfn);
        return p is null ? PageStatus.NotInDump : p.ReadPage(pfn, destination, out detail);
    }

    public void ReadPages(ReadOnlySpan<ulong> pfns, Span<byte> destination, Span<PageStatus> statuses)
    {
        int ps = PageSize;
        for (int i = 0; i < pfns.Length;)
        {
            var p = PartFor(pfns[i]);
            int j = i + 1;
            if (p is null)
            {
                statuses[i] = PageStatus.NotInDump;
                destination.Slice(i * ps, ps).Clear();
                i = j;
                continue;
            }
            while (j < pfns.Length && pfns[j] >= p.SplitStart && pfns[j] < p.SplitEnd) j++;
            p.ReadPages(pfns[i..j], destination.Slice(i * ps, (j - i) * ps), statuses[i..j]);
            i = j;
        }
    }

    internal IEnumerable<ulong> EnumerateDumpedPfns() => _parts.SelectMany(p => p.EnumerateDumpedPfns());

    public void Dispose() { foreach (var p in _parts) p.Dispose(); }
}
