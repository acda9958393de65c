namespace Kdump.Engine.Dump;

/// <summary>The container format of a dump file.</summary>
public enum DumpFormat
{
    /// <summary>An ELF64 core: /proc/vmcore, makedumpfile -E, QEMU dump-guest-memory (elf).</summary>
    Elf,
    /// <summary>makedumpfile's kdump-compressed ("diskdump") format.</summary>
    KdumpCompressed,
    /// <summary>makedumpfile -F / QEMU kdump-*: a flattened stream of a kdump-compressed or ELF file, read in place.</summary>
    Flattened,
    /// <summary>makedumpfile --split: several kdump-compressed files that together hold one dump.</summary>
    Split,
}

/// <summary>How the page data of a dump is compressed.</summary>
public enum DumpCompression
{
    None,
    Zlib,
    Lzo,
    Snappy,
    Zstd,
}

/// <summary>A note of the dump's note area (ELF PT_NOTE or the kdump sub-header's note copy).</summary>
public sealed class DumpNote
{
    public string Name { get; init; } = "";
    public uint Type { get; init; }
    public int Size { get; init; }
    /// <summary>The well-known name of the type (NT_PRSTATUS, VMCOREINFO, QEMU_CPUSTATE ...), or the number.</summary>
    public string TypeName { get; init; } = "";
    public override string ToString() => $"{Name}/{TypeName} ({Size} bytes)";
}

/// <summary>What a format reader learned from a file's headers (filled while opening, then read-only).</summary>
internal sealed class DumpHeaderInfo
{
    public DumpFormat Format { get; set; }
    public DumpFormat PayloadFormat { get; set; }
    public DumpCompression Compression { get; set; }
    public string Producer { get; set; } = "unknown";
    public List<string> ProducerHints { get; } = new();
    public int? HeaderVersion { get; set; }
    public int? DumpLevel { get; set; }
    public string? Architecture { get; set; }
    public bool Is64Bit { get; set; } = true;
    public bool BigEndian { get; set; }
    public string? UtsRelease { get; set; }
    public string? UtsVersion { get; set; }
    public string? UtsNodeName { get; set; }
    public string? UtsMachine { get; set; }
    public DateTimeOffset? Timestamp { get; set; }
    public int? HeaderCpuCount { get; set; }
    public int? HeaderCurrentCpu { get; set; }
    public long? PhysBase { get; set; }
    public bool Incomplete { get; set; }
    public ulong PhysicalPages { get; set; }
    public ulong DumpedPages { get; set; }
    public ulong ExcludedPages { get; set; }
    public ulong? LostPages { get; set; }
    public List<DumpNote> Notes { get; } = new();
    /// <summary>The notes with their descriptors (name, type, bytes), as read.</summary>
    public List<(string Name, uint Type, byte[] Desc)> RawNotes { get; } = new();
    public List<CpuState> Cpus { get; } = new();
    public VmcoreInfo? VmcoreInfo { get; set; }
    public int? PanicCpu { get; set; }
    public bool? Split { get; set; }
    public ulong? SplitStartPfn { get; set; }
    public ulong? SplitEndPfn { get; set; }
    public List<string> Explanation { get; } = new();
    /// <summary>What the open-time checks found wrong with the file (truncation, disagreeing structures); empty when healthy.</summary>
    public List<string> Problems { get; } = new();
}

/// <summary>One format reader: physical pages plus what the headers say. Chosen by <see cref="DumpOpener"/> by magic.</summary>
internal interface IDumpReader : IPhysicalMemory, IDisposable
{
    DumpHeaderInfo Info { get; }
    /// <summary>Whether pages cost a decompression (worth caching).</summary>
    bool IsCompressed { get; }
    /// <summary>Reads one page, or says why not with a detail naming the file and offset on corruption.</summary>
    PageStatus ReadPage(ulong pfn, Span<byte> destination, out string? detail);

    /// <summary>
    /// Reads many pages (page i of <paramref name="pfns"/> at i*PageSize of <paramref name="destination"/>) on the
    /// calling thread; unreadable pages are zeroed. Readers override it to batch their file reads.
    /// </summary>
    void ReadPages(ReadOnlySpan<ulong> pfns, Span<byte> destination, Span<PageStatus> statuses)
    {
        int ps = PageSize;
        for (int i = 0; i < pfns.Length; i++)
        {
            var span = destination.Slice(i * ps, ps);
            var st = ReadPage(pfns[i], span, out _);
            if (st != PageStatus.Present) span.Clear();
            statuses[i] = st;
        }
    }
}
