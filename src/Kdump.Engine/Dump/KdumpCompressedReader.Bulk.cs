namespace Kdump.Engine.Dump;

/// <summary>
/// The bulk path of the kdump-compressed reader: many pages per call with few, large positional reads. The page
/// descriptors of a batch are read in one go (they are consecutive for consecutive dumped pages), and the stored
/// data of pages that lie close together in the file is read as one window; a page whose data lies elsewhere (the
/// single zero page makedumpfile and QEMU share between all zero pages) is read on its own and remembered, so it
/// does not break the window. Buffers are per thread and reused, so the hot loop allocates nothing.
/// </summary>
internal sealed partial class KdumpCompressedReader
{
    /// <summary>Pages handled per inner batch (bounds the per-thread scratch arrays).</summary>
    private const int BulkBatch = 4096;
    /// <summary>Largest data window read at once, and the largest unused gap a window may span.</summary>
    private const int MaxWindow = 128 * 1024, MaxGap = 16 * 1024;

    private sealed class Scratch
    {
        public readonly long[] Index = new long[BulkBatch];
        public readonly long[] Offset = new long[BulkBatch];
        public readonly int[] Size = new int[BulkBatch];
        public readonly DumpCompression[] Comp = new DumpCompression[BulkBatch];
        public readonly byte[] Desc = new byte[BulkBatch * PageDescSize];
        public readonly byte[] Data = new byte[MaxWindow];
        public byte[] Single = new byte[8192];
        public byte[] SinglePage = new byte[4096];
    }

    [ThreadStatic] private static Scratch? t_scratch;

    /// <summary>
    /// Reads <paramref name="pfns"/> (best in ascending order) into <paramref name="destination"/> (page i at
    /// i*PageSize); unreadable pages are zeroed and their status says why.
    /// </summary>
    public void ReadPages(ReadOnlySpan<ulong> pfns, Span<byte> destination, Span<PageStatus> statuses)
    {
        var s = t_scratch ??= new Scratch();
        if (s.SinglePage.Length < PageSize) s.SinglePage = new byte[PageSize];
        if (s.Single.Length < _maxStored) s.Single = new byte[_maxStored];
        for (int at = 0; at < pfns.Length; at += BulkBatch)
        {
            int n = Math.Min(BulkBatch, pfns.Length - at);
            ReadBatch(s, pfns.Slice(at, n), destination.Slice(at * PageSize, n * PageSize), statuses.Slice(at, n));
        }
    }

    private void ReadBatch(Scratch s, ReadOnlySpan<ulong> pfns, Span<byte> destination, Span<PageStatus> statuses)
    {
        int ps = PageSize, n = pfns.Length;
        var index = s.Index;
        // Status and descriptor index of every page (rank is incremental for consecutive pfns).
        ulong prevPfn = ulong.MaxValue;
        long prevIndex = -1;
        for (int i = 0; i < n; i++)
        {
            ulong pfn = pfns[i];
            var st = GetPageStatus(pfn);
            statuses[i] = st;
            if (st != PageStatus.Present) { index[i] = -1; destination.Slice(i * ps, ps).Clear(); continue; }
            long ix = prevIndex >= 0 && pfn == prevPfn + 1 ? prevIndex + 1 : _dumped.Rank(pfn) - _rankStart;
            index[i] = ix;
            prevPfn = pfn; prevIndex = ix;
        }

        long singleOffset = -1; // the stored data whose page is in s.SinglePage
        int i0 = 0;
        while (i0 < n)
        {
            if (index[i0] < 0) { i0++; continue; }
            // A group of pages whose descriptors span at most BulkBatch entries: one read for all of them.
            long lo = index[i0], hi = lo;
            int i1 = i0;
            for (; i1 < n; i1++)
            {
                long ix = index[i1];
                if (ix < 0) continue;
                if (ix < lo || ix - lo >= BulkBatch) break;
                if (ix > hi) hi = ix;
            }
            int descBytes = (int)(hi - lo + 1) * PageDescSize;
            int got = _src.Read(DescPos(lo), s.Desc.AsSpan(0, descBytes));
            for (int i = i0; i < i1; i++)
            {
                if (index[i] < 0) continue;
                int at = (int)(index[i] - lo) * PageDescSize;
                PageStatus st;
                if (at + PageDescSize > got) st = PageStatus.Lost;
                else st = CheckDescriptor(index[i], s.Desc.AsSpan(at, PageDescSize), out s.Offset[i], out s.Size[i], out s.Comp[i], out _);
                if (st != PageStatus.Present) { statuses[i] = st; index[i] = -1; destination.Slice(i * ps, ps).Clear(); }
            }
            ReadData(s, i0, i1, destination, statuses, ref singleOffset);
            i0 = i1;
        }
    }

    /// <summary>Reads and decompresses the data of pages [i0, i1) whose descriptors were checked.</summary>
    private void ReadData(Scratch s, int i0, int i1, Span<byte> destination, Span<PageStatus> statuses, ref long singleOffset)
    {
        int ps = PageSize;
        var index = s.Index;
        long winStart = 0;
        int winLen = 0;
        for (int i = i0; i < i1; i++)
        {
            if (index[i] < 0) continue;
            long off = s.Offset[i];
            int size = s.Size[i];
            var dest = destination.Slice(i * ps, ps);
            PageStatus st;
            if (off >= winStart && off + size <= winStart + winLen)
            {
                st = Decode(off, s.Comp[i], s.Data.AsSpan((int)(off - winStart), size), dest, out _);
            }
            else if (s.Comp[i] == DumpCompression.None && TryReadRawRun(s, i, i1, destination, statuses, out int run))
            {
                i += run - 1; // a run of pages stored raw, back to back: read straight into the destination
                continue;
            }
            else if (off == singleOffset)
            {
                s.SinglePage.AsSpan(0, ps).CopyTo(dest);
                st = PageStatus.Present;
            }
            else
            {
                // Plan a window from this page's data over the following pages' data that lies close after it.
                long end = off + size;
                bool shared = false;
                for (int k = i + 1; k < i1; k++)
                {
                    if (index[k] < 0) continue;
                    long o = s.Offset[k];
                    if (o < off) continue;               // elsewhere (the shared zero page): read on its own
                    if (o > end + MaxGap || o + s.Size[k] - off > MaxWindow) break;
                    shared = true;
                    if (o + s.Size[k] > end) end = o + s.Size[k];
                }
                if (shared)
                {
                    winStart = off;
                    winLen = _src.Read(off, s.Data.AsSpan(0, (int)(end - off)));
                    st = off + size <= winStart + winLen
                        ? Decode(off, s.Comp[i], s.Data.AsSpan(0, size), dest, out _)
                        : PageStatus.Corrupt; // short read: the file ended under us
                }
                else
                {
                    // A page on its own; keep its decompressed bytes, as other pages may share them (zero page).
                    var stored = s.Single.AsSpan(0, size);
                    if (_src.Read(off, stored) != size) st = PageStatus.Corrupt;
                    else
                    {
                        st = Decode(off, s.Comp[i], stored, dest, out _);
                        if (st == PageStatus.Present) { dest.CopyTo(s.SinglePage); singleOffset = off; }
                    }
                }
            }
            statuses[i] = st;
            if (st != PageStatus.Present) dest.Clear();
        }
    }

    /// <summary>
    /// Pages [i, i+run) stored raw and back to back in the file, in consecutive destination slots, are read with one
    /// call straight into the destination (no copy through the window). False when fewer than two pages qualify.
    /// </summary>
    private bool TryReadRawRun(Scratch s, int i, int i1, Span<byte> destination, Span<PageStatus> statuses, out int run)
    {
        int ps = PageSize;
        run = 1;
        while (i + run < i1 && run < MaxWindow / ps && s.Index[i + run] >= 0 && s.Comp[i + run] == DumpCompression.None &&
               s.Offset[i + run] == s.Offset[i] + (long)run * ps)
            run++;
        if (run < 2) return false;
        var dest = destination.Slice(i * ps, run * ps);
        int got = _src.Read(s.Offset[i], dest);
        for (int k = 0; k < run; k++)
        {
            bool ok = (k + 1) * ps <= got;
            statuses[i + k] = ok ? PageStatus.Present : PageStatus.Corrupt; // short: the file ended under us
            if (!ok) dest.Slice(k * ps, ps).Clear();
        }
        return true;
    }
}
