namespace Kdump.Engine.Dump;

/// <summary>How to open dumps.</summary>
public sealed class DumpOpenOptions
{
    public static readonly DumpOpenOptions Default = new();
    public DumpLimits Limits { get; init; } = DumpLimits.Default;
    /// <summary>Open damaged files where possible: truncated data reads as lost pages, overlapping flattened records later-wins.</summary>
    public bool Force { get; init; }
    /// <summary>When a dump carries no VMCOREINFO, scan its memory for one (QEMU dumps without -device vmcoreinfo).</summary>
    public bool RecoverVmcoreInfo { get; init; } = true;
}

/// <summary>Chooses the reader for a file by its magic bytes, never by its name.</summary>
internal static class DumpOpener
{
    /// <summary>Opens one file with the reader its magic calls for. Split parts come back as single-part readers.</summary>
    public static IDumpReader OpenFile(string path, DumpOpenOptions options, EngineHost host)
    {
        IByteSource? file = null;
        try
        {
            file = new FileByteSource(path);
            var reader = OpenSource(file, options, host);
            file = null; // owned by the reader now
            return reader;
        }
        catch (Exception ex) when (Wrap(ex, path) is { } k) { throw k; }
        finally { file?.Dispose(); }
    }

    /// <summary>Opens an already open byte source (owned by the reader on success, disposed on failure).</summary>
    public static IDumpReader OpenSourceOwned(IByteSource source, DumpOpenOptions options, EngineHost host)
    {
        try { return OpenSource(source, options, host); }
        catch (Exception ex) when (Wrap(ex, source.Path) is { } k) { source.Dispose(); throw k; }
        catch { source.Dispose(); throw; }
    }

    private static IDumpReader OpenSource(IByteSource file, DumpOpenOptions options, EngineHost host)
    {
        string path = file.Path;
        if (file.Length == 0) throw DumpErrors.Empty(path);
        var head = new byte[64];
        int n = file.Read(0, head);
        var h = head.AsSpan(0, n);
        if (FlattenedSource.Sniff(h))
        {
            host.Verbose($"'{path}': magic \"makedumpfile\" at offset 0 — flattened format; indexing its records.");
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var flat = new FlattenedSource(file, options.Limits, options.Force, host);
            host.Verbose($"'{path}': indexed {flat.RecordCount} flattened records in {sw.ElapsedMilliseconds} ms; rearranged size {flat.Length} bytes.");
            var inner = new byte[64];
            int m = flat.Read(0, inner);
            IDumpReader r;
            if (KdumpHeader.Sniff(inner.AsSpan(0, m))) r = new KdumpCompressedReader(flat, options.Limits, host, options.Force);
            else if (ElfDumpReader.Sniff(inner.AsSpan(0, m))) r = new ElfDumpReader(flat, options.Limits, host, options.Force);
            else throw DumpErrors.FormatUnknown(path, "it is a flattened stream, but the rearranged data starts with neither a kdump-compressed nor an ELF header");
            if (flat.Truncated)
            {
                string why = "truncated: the flattened stream ends inside a record";
                if (r is KdumpCompressedReader k) k.MarkIncomplete(why);
                else { r.Info.Incomplete = true; r.Info.Problems.Add(why); }
            }
            r.Info.Format = DumpFormat.Flattened;
            r.Info.Explanation.Insert(0, $"flattened stream of {flat.RecordCount} records (read in place)");
            return r;
        }
        if (ElfDumpReader.Sniff(h))
        {
            host.Verbose($"'{path}': magic 0x7f 'ELF' at offset 0 — ELF core reader.");
            return new ElfDumpReader(file, options.Limits, host, options.Force);
        }
        if (KdumpHeader.Sniff(h))
        {
            host.Verbose($"'{path}': signature \"{System.Text.Encoding.ASCII.GetString(h[..8])}\" at offset 0 — kdump-compressed reader.");
            return new KdumpCompressedReader(file, options.Limits, host, options.Force);
        }
        throw DumpErrors.FormatUnknown(path, Describe(h, file.Length));
    }

    private static string Describe(ReadOnlySpan<byte> h, long length)
    {
        static bool Starts(ReadOnlySpan<byte> s, ReadOnlySpan<byte> m) => s.Length >= m.Length && s[..m.Length].SequenceEqual(m);
        if (Starts(h, [0x1f, 0x8b])) return "it is gzip-compressed; decompress it first";
        if (Starts(h, [0xfd, (byte)'7', (byte)'z', (byte)'X', (byte)'Z'])) return "it is xz-compressed; decompress it first";
        if (Starts(h, [0x28, 0xb5, 0x2f, 0xfd])) return "it is zstd-compressed; decompress it first";
        if (Starts(h, "QEVM"u8)) return "it is a QEMU savevm/migration stream, not a dump-guest-memory dump";
        if (Starts(h, "PAGEDU"u8)) return "it is a Windows crash dump";
        if (Starts(h, "MDMP"u8)) return "it is a Windows minidump";
        if (length < 8) return $"it is only {length} bytes long";
        var magic = string.Join(" ", h[..Math.Min(8, h.Length)].ToArray().Select(b => b.ToString("x2")));
        return $"no known magic at offset 0 (found {magic}; expected ELF 7f 45 4c 46, \"KDUMP   \", \"DISKDUMP\" or \"makedumpfile\")";
    }

    /// <summary>Turns unexpected exceptions from parsing into engine errors that name the file.</summary>
    internal static KdumpException? Wrap(Exception ex, string path) => ex switch
    {
        KdumpException => null,
        OperationCanceledException => null,
        FileNotFoundException or DirectoryNotFoundException => new KdumpException("VmcoreNotFound", KdumpErrorKind.NotFound, $"Cannot find dump file '{path}'.", path, ex),
        UnauthorizedAccessException => new KdumpException("VmcoreAccessDenied", KdumpErrorKind.PermissionDenied, $"Access to '{path}' is denied: {ex.Message}", path, ex),
        IOException => new KdumpException("VmcoreReadError", KdumpErrorKind.ReadError, $"Cannot read '{path}': {ex.Message}", path, ex),
        OutOfMemoryException => new KdumpException("VmcoreLimitExceeded", KdumpErrorKind.LimitExceeded, $"'{path}' needs more memory than is available: {ex.Message}", path, ex),
        _ => new KdumpException("VmcoreCorrupt", KdumpErrorKind.InvalidData, $"'{path}' could not be parsed: {ex.Message}", path, ex),
    };
}
