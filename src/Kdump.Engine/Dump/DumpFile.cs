using System.Buffers;

namespace Kdump.Engine.Dump;

/// <summary>
/// An open crash dump: the hub over one format reader. Physical memory (with a shared LRU cache of decompressed
/// pages and a parallel bulk reader), what the headers say (format, compression, dump level, kernel release ...),
/// the notes, per-CPU registers and VMCOREINFO. Thread-safe for reads.
/// </summary>
public sealed partial class DumpFile : IPhysicalMemory, IDisposable
{
    private readonly IDumpReader _reader;
    private readonly PageCache? _cache;
    private readonly DumpHeaderInfo _info;
    private int _disposed;

    private DumpFile(IDumpReader reader, IReadOnlyList<string> paths, DumpOpenOptions options)
    {
        _reader = reader;
        _info = reader.Info;
        Paths = paths;
        if (reader.IsCompressed) _cache = new PageCache(options.Limits.PageCacheCapacity, reader.PageSize);
    }

    internal IDumpReader Reader => _reader;
    public IReadOnlyList<string> Paths { get; }
    public string Path => Paths[0];
    public DumpFormat Format => _info.Format;
    /// <summary>What a flattened stream or split set holds (KdumpCompressed or Elf); equals Format otherwise.</summary>
    public DumpFormat PayloadFormat => _info.PayloadFormat;
    public DumpCompression Compression => _info.Compression;
    /// <summary>Who wrote the dump: kernel (/proc/vmcore copy), makedumpfile, QEMU dump-guest-memory, diskdump or unknown.</summary>
    public string Producer => _info.Producer;
    public IReadOnlyList<string> ProducerHints => _info.ProducerHints;
    /// <summary>kdump-compressed header_version (null for ELF).</summary>
    public int? HeaderVersion => _info.HeaderVersion;
    /// <summary>makedumpfile dump level (-d), null when the format does not record it.</summary>
    public int? DumpLevel => _info.DumpLevel;
    public IReadOnlyList<string> ExcludedPageClasses => DescribeDumpLevel(_info.DumpLevel);
    public string? Architecture => _info.Architecture ?? (VmcoreInfo?["SYMBOL(init_top_pgt)"] is not null ? "x86_64" : null);
    /// <summary>The kernel release: the header's utsname, else VMCOREINFO's OSRELEASE.</summary>
    public string? KernelRelease => _info.UtsRelease ?? VmcoreInfo?.OsRelease;
    public string? KernelVersion => _info.UtsVersion;
    public string? NodeName => _info.UtsNodeName;
    public string? BuildId => VmcoreInfo?.BuildId;
    public int PageSize => _reader.PageSize;
    public ulong MaxPfn => _reader.MaxPfn;
    /// <summary>CPUs with register notes, else the header's CPU count.</summary>
    public int? CpuCount => _info.Cpus.Count > 0 ? _info.Cpus.Count : _info.HeaderCpuCount is > 0 ? _info.HeaderCpuCount : null;
    /// <summary>Bytes of RAM the dump describes (page frames that are not holes).</summary>
    public ulong PhysicalMemory => _info.PhysicalPages * (ulong)PageSize;
    public ulong PhysicalPages => _info.PhysicalPages;
    public ulong DumpedPages => _info.DumpedPages;
    public ulong ExcludedPages => _info.ExcludedPages;
    public bool Incomplete => _info.Incomplete;
    public ulong? LostPages => _info.LostPages;
    /// <summary>phys_base: VMCOREINFO's NUMBER(phys_base) when present, else the kdump sub-header's.</summary>
    public long? PhysBase => VmcoreInfo is { } vi && vi.TryGetNumber("phys_base", out var pb) ? pb : _info.PhysBase;
    /// <summary>The header's phys_base, which QEMU sometimes writes differently from VMCOREINFO.</summary>
    public long? HeaderPhysBase => _info.PhysBase;
    /// <summary>KASLR offset: VMCOREINFO KERNELOFFSET.</summary>
    public ulong? KaslrOffset => VmcoreInfo?.KernelOffset;
    /// <summary>The CPU that panicked, when the dump tells (null when unknown; the kdump header's current_cpu is not trusted).</summary>
    public int? PanicCpu => _info.PanicCpu;
    public int? HeaderCurrentCpu => _info.HeaderCurrentCpu;
    public DateTimeOffset? Timestamp => _info.Timestamp ?? (VmcoreInfo?.CrashTime is long t && t > 0 && t < 253402300799 ? DateTimeOffset.FromUnixTimeSeconds(t) : null);
    public VmcoreInfo? VmcoreInfo { get; private set; }
    public IReadOnlyList<DumpNote> Notes => _info.Notes;
    public IReadOnlyList<CpuState> Cpus => _info.Cpus;
    /// <summary>The notes with their descriptor bytes (name, type, desc), for tools that rewrite or inspect them.</summary>
    public IReadOnlyList<(string Name, uint Type, byte[] Desc)> RawNotes => _info.RawNotes;
    /// <summary>How the reader was chosen and what the headers said (for -Verbose).</summary>
    public IReadOnlyList<string> Explanation => _info.Explanation;
    /// <summary>What the open-time checks found wrong with the file (truncated page data, bitmap and descriptors that disagree); empty when healthy.</summary>
    public IReadOnlyList<string> Problems => _info.Problems;
    public bool IsSplitPart => _info.Split == true && _info.Format != DumpFormat.Split;

    /// <summary>Opens one dump file (any format; a lone split part must cover all memory).</summary>
    public static DumpFile Open(string path, DumpOpenOptions? options = null, EngineHost? host = null)
    {
        var results = OpenAll(new[] { path }, options, host);
        return results[0].Dump ?? throw results[0].Error!;
    }

    public static IReadOnlyList<string> DescribeDumpLevel(int? level)
    {
        if (level is not int l || l <= 0) return Array.Empty<string>();
        var list = new List<string>();
        if ((l & 1) != 0) list.Add("zero");
        if ((l & 2) != 0) list.Add("cache");
        if ((l & 4) != 0) list.Add("cache-private");
        if ((l & 8) != 0) list.Add("user");
        if ((l & 16) != 0) list.Add("free");
        return list;
    }

    // ------------------------------------------------------------------ physical memory

    public PageStatus GetPageStatus(ulong pfn) => _reader.GetPageStatus(pfn);

    public PageStatus ReadPage(ulong pfn, Span<byte> destination) => ReadPage(pfn, destination, out _);

    /// <summary>Reads one page through the cache; <paramref name="detail"/> says what was wrong with a corrupt or lost page.</summary>
    public PageStatus ReadPage(ulong pfn, Span<byte> destination, out string? detail)
    {
        ThrowIfDisposed();
        detail = null;
        if (destination.Length < PageSize) throw new ArgumentException($"destination must hold {PageSize} bytes", nameof(destination));
        if (_cache is not null && _cache.TryGet(pfn, destination)) return PageStatus.Present;
        var st = _reader.ReadPage(pfn, destination, out detail);
        if (st == PageStatus.Present) _cache?.Add(pfn, destination);
        return st;
    }

    /// <summary>
    /// Reads physical memory into <paramref name="destination"/> up to the first unreadable page. Returns the bytes
    /// read; <paramref name="status"/> is Present when all were read, else the reason for the page at
    /// address + returned count.
    /// </summary>
    public int TryReadPhysical(ulong address, Span<byte> destination, out PageStatus status) => TryReadPhysical(address, destination, out status, out _);

    public int TryReadPhysical(ulong address, Span<byte> destination, out PageStatus status, out string? detail)
    {
        ThrowIfDisposed();
        status = PageStatus.Present;
        detail = null;
        int ps = PageSize, done = 0;
        if (destination.IsEmpty) return 0;
        if (address + (ulong)destination.Length < address) { status = PageStatus.NotInDump; return 0; }
        byte[] page = ArrayPool<byte>.Shared.Rent(ps);
        try
        {
            while (done < destination.Length)
            {
                ulong a = address + (ulong)done;
                ulong pfn = a / (ulong)ps;
                int inPage = (int)(a % (ulong)ps);
                int n = Math.Min(ps - inPage, destination.Length - done);
                if (inPage == 0 && n == ps)
                {
                    var st = ReadPage(pfn, destination.Slice(done, ps), out detail);
                    if (st != PageStatus.Present) { status = st; return done; }
                }
                else
                {
                    var st = ReadPage(pfn, page, out detail);
                    if (st != PageStatus.Present) { status = st; return done; }
                    page.AsSpan(inPage, n).CopyTo(destination.Slice(done, n));
                }
                done += n;
            }
            return done;
        }
        finally { ArrayPool<byte>.Shared.Return(page); }
    }

    /// <summary>Reads physical memory or throws <see cref="MemoryFaultException"/> at the first unreadable page.</summary>
    public void ReadPhysical(ulong address, Span<byte> destination)
    {
        int n = TryReadPhysical(address, destination, out var st, out var detail);
        if (n < destination.Length) throw new MemoryFaultException(address + (ulong)n, st, "physical", detail);
    }

    /// <summary>
    /// Reads <paramref name="statuses"/>.Length consecutive pages from <paramref name="firstPfn"/> into
    /// <paramref name="destination"/> (page i at i*PageSize), decompressing on up to
    /// <paramref name="maxDegreeOfParallelism"/> cores (-1: all). Bypasses the page cache. Unreadable pages are zeroed.
    /// </summary>
    public void ReadPages(ulong firstPfn, Memory<byte> destination, PageStatus[] statuses, int maxDegreeOfParallelism = -1)
    {
        ThrowIfDisposed();
        int ps = PageSize, count = statuses.Length;
        if (destination.Length < (long)count * ps) throw new ArgumentException("destination is too small for the pages", nameof(destination));
        var pfns = new ulong[count];
        for (int i = 0; i < count; i++) pfns[i] = firstPfn + (ulong)i;
        ReadPages(pfns, destination, statuses, maxDegreeOfParallelism);
    }

    /// <summary>
    /// Reads the given pages (page i of <paramref name="pfns"/> at i*PageSize), bypassing the cache. The list is cut
    /// into large contiguous chunks, each read by one thread with batched file reads; nothing is shared between
    /// the threads but the file handle.
    /// </summary>
    public void ReadPages(IReadOnlyList<ulong> pfns, Memory<byte> destination, PageStatus[] statuses, int maxDegreeOfParallelism = -1)
    {
        ThrowIfDisposed();
        int ps = PageSize, count = pfns.Count;
        if (statuses.Length < count || destination.Length < (long)count * ps) throw new ArgumentException("destination or statuses too small");
        if (count == 0) return;
        ulong[] arr;
        if (pfns is ulong[] a) arr = a;
        else
        {
            arr = new ulong[count];
            if (pfns is List<ulong> l) l.CopyTo(arr);
            else for (int i = 0; i < count; i++) arr[i] = pfns[i];
        }
        int dop = maxDegreeOfParallelism < 0 ? Environment.ProcessorCount : Math.Max(1, maxDegreeOfParallelism);
        const int MinChunk = 256;
        if (dop == 1 || count < 2 * MinChunk)
        {
            _reader.ReadPages(arr.AsSpan(0, count), destination.Span[..(count * ps)], statuses.AsSpan(0, count));
            return;
        }
        // A few chunks per core so a slow chunk does not leave the other cores idle, but each large enough to batch.
        int chunk = Math.Max(MinChunk, (count + dop * 4 - 1) / (dop * 4));
        int chunks = (count + chunk - 1) / chunk;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = dop }, c =>
        {
            int s = c * chunk, n = Math.Min(count, s + chunk) - s;
            _reader.ReadPages(arr.AsSpan(s, n), destination.Span.Slice(s * ps, n * ps), statuses.AsSpan(s, n));
        });
    }

    /// <summary>The pfns whose data the dump holds, in order.</summary>
    public IEnumerable<ulong> EnumerateDumpedPfns()
    {
        ThrowIfDisposed();
        return _reader switch
        {
            KdumpCompressedReader k => k.EnumerateDumpedPfns(),
            SplitDumpReader s => s.EnumerateDumpedPfns(),
            ElfDumpReader e => EnumerateElf(e),
            _ => Enumerable.Empty<ulong>(),
        };
    }

    /// <summary>
    /// The pfns whose data really is in the file, in order: like <see cref="EnumerateDumpedPfns"/> but without the
    /// pages of a truncated file whose descriptors or data lie past its end, so a walk over them is bounded by the
    /// file's size whatever its headers claim.
    /// </summary>
    internal IEnumerable<ulong> EnumerateStoredPfns()
    {
        ThrowIfDisposed();
        return _reader switch
        {
            KdumpCompressedReader k => k.EnumerateStoredPfns(),
            SplitDumpReader s => s.Parts.SelectMany(p => p.EnumerateStoredPfns()),
            ElfDumpReader e => EnumerateElf(e),
            _ => Enumerable.Empty<ulong>(),
        };
    }

    /// <summary>The pages of the ELF segments' file data that lies inside the file.</summary>
    private IEnumerable<ulong> EnumerateElf(ElfDumpReader e)
    {
        ulong ps = (ulong)PageSize, last = ulong.MaxValue;
        long length = e.SourceLength;
        foreach (var r in e.Ranges)
        {
            if (r.FileSize == 0 || r.FileOffset >= length) continue;
            ulong inFile = Math.Min(r.FileSize, (ulong)(length - r.FileOffset));
            ulong first = r.Start / ps, end = (r.Start + inFile + ps - 1) / ps;
            for (ulong p = first; p < end; p++)
            {
                if (p == last) continue;
                last = p;
                yield return p;
            }
        }
    }

    /// <summary>Cache statistics: hits, misses.</summary>
    public (long Hits, long Misses) CacheStatistics => _cache is null ? (0, 0) : (_cache.Hits, _cache.Misses);

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
            throw new KdumpException("VmcoreClosed", KdumpErrorKind.InvalidArgument, $"The dump '{Path}' has been closed.", Path);
    }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _reader.Dispose();
    }

    public override string ToString() => $"{Format} {Path}";
}
