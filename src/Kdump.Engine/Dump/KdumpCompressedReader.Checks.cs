namespace Kdump.Engine.Dump;

/// <summary>
/// Open-time checks of the kdump-compressed page data against the file: a copy cut short (disk full, interrupted
/// transfer) keeps its headers, bitmaps and descriptors but loses the data at the end; a bit flipped in the dumped
/// bitmap shifts every later page onto its neighbour's descriptor. Both are cheap to see: the data area must start
/// right after the descriptor table, and the last pages' data must lie inside the file.
/// </summary>
internal sealed partial class KdumpCompressedReader
{
    /// <summary>Descriptors read per block by the open-time checks.</summary>
    private const int CheckBlock = 4096;
    /// <summary>Most blocks read backwards from the end looking for page data (zero-page references repeat one offset).</summary>
    private const int MaxTailBlocks = 16;

    /// <summary>
    /// How many whole page descriptors of this file lie inside it (and no more than the bytes really stored could
    /// describe, so a flattened stream's holes cannot stand in for millions of descriptors).
    /// </summary>
    private long DescriptorsInFile => Math.Min(Math.Min(_descCount, Math.Max(0, (_src.Length - _descOffset) / PageDescSize)), _src.StoredLength / PageDescSize);

    /// <summary>
    /// Whether the stored data of the last dumped pages runs past the end of the file. Reads the descriptors backwards
    /// from the end until one block holds more than one data offset (all zero pages share one), at most
    /// <see cref="MaxTailBlocks"/> blocks.
    /// </summary>
    private bool DataRunsPastEnd(out long lastEnd)
    {
        lastEnd = 0;
        long count = DescriptorsInFile;
        var buf = new byte[CheckBlock * PageDescSize];
        bool be = Info.BigEndian;
        for (int b = 0; b < MaxTailBlocks && count > 0; b++)
        {
            long first = Math.Max(0, count - CheckBlock);
            int n = (int)(count - first);
            int got = _src.Read(DescPos(first), buf.AsSpan(0, n * PageDescSize)) / PageDescSize;
            long offsetSeen = -1;
            bool several = false;
            for (int k = 0; k < got; k++)
            {
                long off = Bin.I64(buf, k * PageDescSize, be);
                uint size = Bin.U32(buf, k * PageDescSize + 8, be);
                if (off <= 0 || size == 0 || size > (uint)_maxStored) continue;
                if (off + size > lastEnd) lastEnd = off + size;
                if (offsetSeen >= 0 && off != offsetSeen) several = true;
                offsetSeen = off;
            }
            if (lastEnd > _src.Length) return true;
            if (several) return false;
            count = first;
        }
        return false;
    }

    /// <summary>
    /// The lowest data offset among the first descriptors, which makedumpfile and QEMU put right after the
    /// descriptor table (or one page later, after the shared zero page). Null when none is readable.
    /// </summary>
    private long? FirstDataOffset()
    {
        long count = Math.Min(DescriptorsInFile, CheckBlock);
        if (count <= 0) return null;
        var buf = new byte[count * PageDescSize];
        int got = _src.Read(_descOffset, buf) / PageDescSize;
        long min = long.MaxValue;
        for (int k = 0; k < got; k++)
        {
            long off = Bin.I64(buf, k * PageDescSize, Info.BigEndian);
            if (off > 0 && off < min) min = off;
        }
        return min == long.MaxValue ? null : min;
    }

    /// <summary>
    /// Runs the open-time checks: truncated page data marks the dump incomplete (its pages read as lost) with a
    /// warning; a descriptor table that does not end where the data begins means the dumped bitmap and the
    /// descriptors disagree, which is warned about (answers past that point may be wrong).
    /// </summary>
    private void CheckDataArea(EngineHost host)
    {
        string path = _src.Path;
        long descEnd = _descOffset + _descCount * PageDescSize;
        if (!Info.Incomplete && DataRunsPastEnd(out long lastEnd))
        {
            Info.Incomplete = true;
            string what = $"truncated: the page data runs to file offset 0x{lastEnd:x} but the file ends at 0x{_src.Length:x}";
            Info.Problems.Add(what);
            host.Warning($"'{path}' is {what}; the pages past the end read as lost (PageLost) and answers that need them are partial.");
        }
        if (descEnd <= _src.Length && FirstDataOffset() is long first && first != descEnd && first != descEnd + PageSize)
        {
            long delta = first - descEnd;
            string why = delta % PageDescSize == 0 && Math.Abs(delta / PageDescSize) <= 64
                ? $"the dumped-page bitmap counts {_descCount} pages, {(delta > 0 ? "fewer" : "more")} by {Math.Abs(delta / PageDescSize)} than the descriptors written (a flipped bitmap bit?)"
                : "the dumped-page bitmap and the page descriptors disagree";
            Info.Problems.Add($"page descriptors end at 0x{descEnd:x} but the page data starts at 0x{first:x}: {why}");
            host.Warning($"'{path}' may be corrupt: the page descriptors end at file offset 0x{descEnd:x} but the page data starts at 0x{first:x}: {why}; pages may read their neighbours' data, so answers may be wrong.");
        }
    }

    /// <summary>Marks the dump incomplete after the fact (a flattened stream cut short): unwritten pages read as lost.</summary>
    internal void MarkIncomplete(string why)
    {
        if (!Info.Problems.Any(p => p.StartsWith("truncated", StringComparison.Ordinal))) Info.Problems.Add(why);
        if (Info.Incomplete) return;
        Info.Incomplete = true;
        Info.LostPages = (ulong)CountLost();
    }

    /// <summary>Dumped pfns of this file whose descriptors lie inside it, in order.</summary>
    internal IEnumerable<ulong> EnumerateStoredPfns()
    {
        long left = DescriptorsInFile;
        if (left <= 0) yield break;
        foreach (var pfn in _dumped.Enumerate(_start, _end))
        {
            yield return pfn;
            if (--left == 0) yield break;
        }
    }
}
