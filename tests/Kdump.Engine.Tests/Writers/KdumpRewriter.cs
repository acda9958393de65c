using Kdump.Engine.Dump;

namespace Kdump.Engine.Tests.Writers;

/// <summary>A sink that writes straight to a file (for dumps too big to build in memory).</summary>
public sealed class FileSink : IDumpSink, IDisposable
{
    private readonly FileStream _fs;
    public FileSink(string path) => _fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
    public void Write(long offset, ReadOnlySpan<byte> data) { _fs.Position = offset; _fs.Write(data); }
    public void Dispose() => _fs.Dispose();
}

/// <summary>
/// Rewrites a real dump as kdump-compressed with another compression (e.g. snappy, which no Debian producer writes),
/// keeping its RAM map, dumped pages, zero pages, notes, VMCOREINFO, utsname and dump level.
/// </summary>
public static class KdumpRewriter
{
    public static void Rewrite(DumpFile src, string destination, DumpCompression compression)
    {
        int ps = src.PageSize;
        var dumped = new HashSet<ulong>(src.EnumerateDumpedPfns());
        var zero = new HashSet<ulong>();
        var page = new byte[ps];
        foreach (var pfn in dumped)
            if (src.ReadPage(pfn, page) == PageStatus.Present && page.AsSpan().IndexOfAnyExcept((byte)0) < 0) zero.Add(pfn);
        var w = new KdumpCompressedWriter
        {
            BlockSize = ps,
            MaxMapnr = src.MaxPfn,
            Compression = compression,
            Release = src.KernelRelease ?? "",
            Version = src.KernelVersion ?? "",
            NodeName = src.NodeName ?? "",
            Machine = src.Architecture ?? "x86_64",
            Timestamp = src.Timestamp?.ToUnixTimeSeconds() ?? 0,
            DumpLevel = src.DumpLevel ?? 0,
            NrCpus = src.CpuCount ?? 1,
            PhysBase = src.HeaderPhysBase ?? src.PhysBase ?? 0,
            IsRam = pfn => src.GetPageStatus(pfn) is PageStatus.Present or PageStatus.Excluded or PageStatus.Lost or PageStatus.Corrupt,
            IsDumped = dumped.Contains,
            IsZero = zero.Contains,
            StoreRaw = _ => false,
            PageData = pfn => { var b = new byte[ps]; src.ReadPage(pfn, b); return b; },
            VmcoreInfoText = null,
        };
        foreach (var n in src.RawNotes) w.Notes.Add((n.Name, n.Type, n.Desc));
        using var sink = new FileSink(destination);
        w.Write(sink);
    }
}
