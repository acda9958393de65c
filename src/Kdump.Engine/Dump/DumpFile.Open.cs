using System.Text;

namespace Kdump.Engine.Dump;

/// <summary>The outcome of opening one dump out of several paths: the dump, or the error that names what is wrong.</summary>
public sealed class DumpOpenResult
{
    public IReadOnlyList<string> Paths { get; init; } = Array.Empty<string>();
    public DumpFile? Dump { get; init; }
    public KdumpException? Error { get; init; }
}

public sealed partial class DumpFile
{
    /// <summary>
    /// Opens several paths: parts of a makedumpfile --split set (recognized by their headers, never by name) open
    /// as one dump; every other file opens as its own dump. Results are in path order (a split set at its first part).
    /// </summary>
    public static IReadOnlyList<DumpOpenResult> OpenAll(IReadOnlyList<string> paths, DumpOpenOptions? options = null, EngineHost? host = null)
    {
        options ??= DumpOpenOptions.Default;
        host ??= EngineHost.Null;
        return OpenAll(paths, i => DumpOpener.OpenFile(paths[i], options, host), options, host);
    }

    /// <summary>Opens byte sources (in-memory images for tests and fuzzing) exactly as files are opened; takes ownership of them.</summary>
    internal static IReadOnlyList<DumpOpenResult> OpenSources(IReadOnlyList<IByteSource> sources, DumpOpenOptions? options = null, EngineHost? host = null)
    {
        options ??= DumpOpenOptions.Default;
        host ??= EngineHost.Null;
        return OpenAll(sources.Select(s => s.Path).ToArray(), i => DumpOpener.OpenSourceOwned(sources[i], options, host), options, host);
    }

    private static IReadOnlyList<DumpOpenResult> OpenAll(IReadOnlyList<string> paths, Func<int, IDumpReader> open, DumpOpenOptions options, EngineHost host)
    {
        var slots = new List<(int order, DumpOpenResult result)>();
        var splitGroups = new Dictionary<string, List<(int order, KdumpCompressedReader part)>>(StringComparer.Ordinal);
        for (int i = 0; i < paths.Count; i++)
        {
            host.Cancellation.ThrowIfCancellationRequested();
            IDumpReader reader;
            try { reader = open(i); }
            catch (KdumpException ex) { slots.Add((i, new DumpOpenResult { Paths = new[] { paths[i] }, Error = ex })); continue; }
            if (reader is KdumpCompressedReader k && k.Header.IsSplit && k.Info.Format == DumpFormat.KdumpCompressed)
            {
                var key = k.Header.Identity;
                if (!splitGroups.TryGetValue(key, out var g)) splitGroups[key] = g = new();
                if (g.Count >= options.Limits.MaxSplitParts)
                {
                    reader.Dispose();
                    slots.Add((i, new DumpOpenResult { Paths = new[] { paths[i] }, Error = DumpErrors.Limit(paths[i], "split parts", $"more than {options.Limits.MaxSplitParts}") }));
                    continue;
                }
                g.Add((i, k));
                continue;
            }
            slots.Add((i, Finish(reader, new[] { paths[i] }, options, host)));
        }
        foreach (var g in splitGroups.Values)
        {
            var partPaths = g.Select(p => p.part.Path).ToArray();
            IDumpReader reader;
            try
            {
                // A single part that covers everything (makedumpfile may put all pages in the first part) opens alone.
                reader = g.Count == 1 && g[0].part.SplitStart == 0 && g[0].part.SplitEnd >= g[0].part.MaxPfn
                    ? g[0].part : new SplitDumpReader(g.Select(p => p.part).ToList());
            }
            catch (KdumpException ex)
            {
                foreach (var p in g) p.part.Dispose();
                slots.Add((g[0].order, new DumpOpenResult { Paths = partPaths, Error = ex }));
                continue;
            }
            slots.Add((g[0].order, Finish(reader, partPaths, options, host)));
        }
        return slots.OrderBy(s => s.order).Select(s => s.result).ToList();
    }

    private static DumpOpenResult Finish(IDumpReader reader, string[] paths, DumpOpenOptions options, EngineHost host)
    {
        var dump = new DumpFile(reader, paths, options);
        try
        {
            foreach (var line in dump.Explanation) host.Verbose($"'{paths[0]}': {line}");
            dump.VmcoreInfo = reader.Info.VmcoreInfo;
            if (dump.VmcoreInfo is null && options.RecoverVmcoreInfo)
            {
                host.Verbose($"'{paths[0]}': no VMCOREINFO note; scanning memory for an OSRELEASE= block.");
                var found = dump.ScanForVmcoreInfo(host, options.Limits);
                if (found is not null)
                {
                    dump.VmcoreInfo = found;
                    host.Warning($"'{paths[0]}' carries no VMCOREINFO (QEMU without -device vmcoreinfo?); recovered it from memory ({found.Origin}). Check KernelRelease and KaslrOffset.");
                }
                else host.Warning($"'{paths[0]}' carries no VMCOREINFO and none was found in its memory; kernel symbols will need a vmlinux or System.map.");
            }
            return new DumpOpenResult { Paths = paths, Dump = dump };
        }
        catch (Exception ex) when (DumpOpener.Wrap(ex, paths[0]) is { } k) { dump.Dispose(); return new DumpOpenResult { Paths = paths, Error = k }; }
        catch (KdumpException ex) { dump.Dispose(); return new DumpOpenResult { Paths = paths, Error = ex }; }
    }

    /// <summary>
    /// Looks through the dumped pages for a VMCOREINFO text block (OSRELEASE= followed by PAGESIZE= and SYMBOL(...) lines).
    /// The kernel keeps it in one page-aligned buffer, so a match at a page start (or after the note name) is enough.
    /// </summary>
    internal VmcoreInfo? ScanForVmcoreInfo(EngineHost host, DumpLimits? limits = null)
    {
        // Only pages whose data is in the file are scanned (a forged header cannot make the scan longer than the
        // file), and at most MaxVmcoreInfoScanPages of them within VmcoreInfoScanTimeout.
        limits ??= DumpLimits.Default;
        const int Batch = 512;
        int ps = PageSize;
        var pfns = new List<ulong>(Batch);
        var buf = new byte[Batch * ps];
        var st = new PageStatus[Batch];
        ulong scanned = 0, total = DumpedPages;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        bool stopped = false;
        foreach (var pfn in EnumerateStoredPfns())
        {
            pfns.Add(pfn);
            if (pfns.Count == Batch)
            {
                if (ScanBatch() is { } v) return v;
                pfns.Clear();
                if ((long)scanned >= limits.MaxVmcoreInfoScanPages || clock.Elapsed > limits.VmcoreInfoScanTimeout) { stopped = true; break; }
            }
        }
        if (!stopped) return pfns.Count > 0 ? ScanBatch() : null;
        host.Warning($"'{Path}': the search for VMCOREINFO stopped after {scanned} pages and {clock.Elapsed.TotalSeconds:0.#} s (limits: {limits.MaxVmcoreInfoScanPages} pages, {limits.VmcoreInfoScanTimeout.TotalSeconds:0.#} s).");
        return null;

        VmcoreInfo? ScanBatch()
        {
            host.Cancellation.ThrowIfCancellationRequested();
            ReadPages(pfns, buf, st);
            for (int i = 0; i < pfns.Count; i++)
            {
                if (st[i] != PageStatus.Present) continue;
                var page = buf.AsSpan(i * ps, ps);
                int from = 0;
                while (from < ps)
                {
                    int at = page[from..].IndexOf("OSRELEASE="u8);
                    if (at < 0) break;
                    at += from;
                    if (TryValidateVmcoreInfo(pfns[i], at) is { } v) return v;
                    from = at + 1;
                }
            }
            scanned += (ulong)pfns.Count;
            if (total > 0) host.Progress("Recovering VMCOREINFO", $"scanned {scanned} of {total} pages", (int)Math.Min(99, scanned * 100 / total));
            return null;
        }
    }

    private VmcoreInfo? TryValidateVmcoreInfo(ulong pfn, int offset)
    {
        const int Max = 16384;
        ulong addr = pfn * (ulong)PageSize + (ulong)offset;
        var text = new byte[Max];
        int n = TryReadPhysical(addr, text, out _);
        int end = Array.IndexOf(text, (byte)0, 0, n);
        if (end < 0) end = n;
        var s = Encoding.ASCII.GetString(text, 0, end);
        var lines = s.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length < 8) return null;
        int kv = lines.Count(l => l.IndexOf('=') > 0 && l.All(c => c >= 0x20 && c < 0x7f));
        if (kv < lines.Length - 1 || !s.Contains("\nPAGESIZE=", StringComparison.Ordinal) || !s.Contains("SYMBOL(", StringComparison.Ordinal)) return null;
        var vi = new VmcoreInfo(s, $"recovered from physical memory at 0x{addr:x}");
        if (vi.PageSize is not int p || p != PageSize || string.IsNullOrWhiteSpace(vi.OsRelease)) return null;
        return vi;
    }
}
