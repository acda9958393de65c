namespace Kdump.Engine.Dump;

/// <summary>
/// Caps on everything read from an untrusted dump file before it is used to allocate, loop or seek.
/// The defaults admit any real machine (16 TiB of RAM with 4 KiB pages) and reject absurd headers.
/// </summary>
public sealed class DumpLimits
{
    public static readonly DumpLimits Default = new();

    /// <summary>Most program headers an ELF vmcore may declare (QEMU with paging writes tens of thousands).</summary>
    public int MaxElfSegments { get; init; } = 4_000_000;
    /// <summary>Most bytes of ELF notes (all PT_NOTE segments, or the kdump note area) read into memory.</summary>
    public int MaxNoteBytes { get; init; } = 64 << 20;
    /// <summary>Most notes parsed from the note area.</summary>
    public int MaxNotes { get; init; } = 1 << 16;
    /// <summary>Most bytes of the two kdump bitmaps read into memory (512 MiB covers 2^31 page frames each).</summary>
    public long MaxBitmapBytes { get; init; } = 512L << 20;
    /// <summary>Highest page frame count a dump may describe (2^32 frames: 16 TiB with 4 KiB pages).</summary>
    public ulong MaxPageFrames { get; init; } = 1UL << 32;
    /// <summary>Most records in a flattened stream.</summary>
    public int MaxFlattenedRecords { get; init; } = 64 << 20;
    /// <summary>Largest single flattened record.</summary>
    public long MaxFlattenedRecordBytes { get; init; } = 1L << 32;
    /// <summary>Largest rearranged file a flattened stream may describe.</summary>
    public long MaxRearrangedBytes { get; init; } = 1L << 46;
    /// <summary>Most decompressed pages kept in the shared page cache.</summary>
    public int PageCacheCapacity { get; init; } = 8192;
    /// <summary>Most parts of a split dump.</summary>
    public int MaxSplitParts { get; init; } = 256;
    /// <summary>Most pages the VMCOREINFO recovery scan reads (2^24: 64 GiB of 4 KiB pages) before it gives up.</summary>
    public long MaxVmcoreInfoScanPages { get; init; } = 1L << 24;
    /// <summary>Longest the VMCOREINFO recovery scan may run before it gives up.</summary>
    public TimeSpan VmcoreInfoScanTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Largest VMCOREINFO text accepted.</summary>
    public int MaxVmcoreInfoBytes { get; init; } = VmcoreInfo.MaxBytes;
}
