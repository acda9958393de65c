using System.Diagnostics;
using System.Numerics;

namespace Kdump.Engine.Dump;

/// <summary>One measurement: pages and bytes produced in a time.</summary>
public sealed record ThroughputResult(string What, long Pages, long Bytes, TimeSpan Elapsed, int Threads)
{
    public double MegabytesPerSecond => Elapsed.TotalSeconds > 0 ? Bytes / 1048576.0 / Elapsed.TotalSeconds : 0;
}

/// <summary>Throughput measurements of the dump layer (for bench/Read-Pages.ps1).</summary>
public static class DumpBenchmark
{
    /// <summary>Reads every dumped page through the bulk reader on <paramref name="threads"/> cores (-1: all), bypassing the cache.</summary>
    public static ThroughputResult ReadAllPages(DumpFile dump, int threads, CancellationToken cancel = default)
    {
        // Batches a consumer would process while they are still in the CPU cache; the buffer is touched before the
        // clock starts so first-touch page faults are not counted as reading.
        int ps = dump.PageSize;
        int Batch = Math.Max(256, 4 << 20 >> BitOperations.Log2((uint)ps)) * Math.Max(1, threads < 0 ? Environment.ProcessorCount : threads);
        var buf = new byte[Batch * ps];
        Array.Fill(buf, (byte)1);
        var st = new PageStatus[Batch];
        var pfns = new List<ulong>(Batch);
        long pages = 0, bad = 0;
        var sw = Stopwatch.StartNew();
        foreach (var pfn in dump.EnumerateDumpedPfns())
        {
            pfns.Add(pfn);
            if (pfns.Count == Batch) Flush();
        }
        Flush();
        sw.Stop();
        return new ThroughputResult(bad == 0 ? "read all dumped pages" : $"read all dumped pages ({bad} unreadable)", pages, pages * ps, sw.Elapsed, threads < 0 ? Environment.ProcessorCount : threads);

        void Flush()
        {
            if (pfns.Count == 0) return;
            cancel.ThrowIfCancellationRequested();
            dump.ReadPages(pfns, buf, st, threads);
            for (int i = 0; i < pfns.Count; i++) if (st[i] != PageStatus.Present) bad++;
            pages += pfns.Count;
            pfns.Clear();
        }
    }

    /// <summary>
    /// The plain decompressor on the same data on one core: the stored page blobs are loaded into memory first
    /// (up to <paramref name="maxBytes"/>), then only decompression is timed. Null for uncompressed formats.
    /// </summary>
    public static ThroughputResult? DecompressOnly(DumpFile dump, long maxBytes = 256L << 20)
    {
        var parts = dump.Reader switch
        {
            KdumpCompressedReader k => new[] { k },
            SplitDumpReader s => s.Parts.ToArray(),
            _ => Array.Empty<KdumpCompressedReader>(),
        };
        if (parts.Length == 0) return null;
        var blobs = parts.SelectMany(p => p.ReadStoredPages(p.Source, maxBytes)).ToList();
        int ps = dump.PageSize;
        var dst = new byte[ps];
        var sw = Stopwatch.StartNew();
        foreach (var (c, stored) in blobs) PageDecompressor.Decompress(c, stored, dst);
        sw.Stop();
        return new ThroughputResult($"{dump.Compression} decompressor alone", blobs.Count, (long)blobs.Count * ps, sw.Elapsed, 1);
    }

    /// <summary>Time to open a dump (headers, bitmaps, notes; no VMCOREINFO scan): best of <paramref name="repeat"/>.</summary>
    public static TimeSpan MeasureOpen(string path, int repeat = 3)
    {
        var best = TimeSpan.MaxValue;
        for (int i = 0; i < repeat; i++)
        {
            var sw = Stopwatch.StartNew();
            using (DumpFile.Open(path, new DumpOpenOptions { RecoverVmcoreInfo = false })) { }
            sw.Stop();
            if (sw.Elapsed < best) best = sw.Elapsed;
        }
        return best;
    }

    /// <summary>Writes the rearranged twin of a flattened file (what makedumpfile -R would write) to <paramref name="destination"/>.</summary>
    public static void WriteRearranged(string flattenedPath, string destination)
    {
        using var file = new FileByteSource(flattenedPath);
        using var flat = new FlattenedSource(file, DumpLimits.Default, force: false, EngineHost.Null);
        using var o = new FileStream(destination, FileMode.CreateNew, FileAccess.Write);
        var buf = new byte[1 << 20];
        for (long off = 0; off < flat.Length;)
        {
            int n = flat.Read(off, buf.AsSpan(0, (int)Math.Min(buf.Length, flat.Length - off)));
            if (n <= 0) break;
            o.Write(buf, 0, n);
            off += n;
        }
    }
}
