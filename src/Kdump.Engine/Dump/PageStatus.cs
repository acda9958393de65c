namespace Kdump.Engine.Dump;

/// <summary>Why a physical page can or cannot be read. Excluded is not the same as NotInDump.</summary>
public enum PageStatus
{
    /// <summary>The page's bytes are in the dump.</summary>
    Present = 0,
    /// <summary>The page exists in RAM but the dump level filtered it out (zero/cache/user/free page).</summary>
    Excluded,
    /// <summary>The address is not RAM described by the dump (a hole, or past the end of memory).</summary>
    NotInDump,
    /// <summary>The dump is incomplete and this page was never written.</summary>
    Lost,
    /// <summary>The page's stored data could not be decompressed or is truncated.</summary>
    Corrupt,
}

/// <summary>A read of memory hit a page it could not return. Carries the address and the reason.</summary>
public sealed class MemoryFaultException : KdumpException
{
    public ulong Address { get; }
    public PageStatus Status { get; }
    public string AddressSpace { get; }

    public MemoryFaultException(ulong address, PageStatus status, string addressSpace = "physical", string? detail = null)
        : base(IdFor(status), status == PageStatus.Corrupt ? KdumpErrorKind.InvalidData : KdumpErrorKind.Unavailable,
               $"Cannot read {addressSpace} address 0x{address:x}: {Describe(status)}{(detail is null ? "" : " (" + detail + ")")}.", address)
    {
        Address = address;
        Status = status;
        AddressSpace = addressSpace;
    }

    public static string IdFor(PageStatus s) => s switch
    {
        PageStatus.Excluded => "PageExcluded",
        PageStatus.NotInDump => "PageNotInDump",
        PageStatus.Lost => "PageLost",
        PageStatus.Corrupt => "PageCorrupt",
        _ => "PageReadFailed",
    };

    public static string Describe(PageStatus s) => s switch
    {
        PageStatus.Excluded => "the page was excluded from the dump by its dump level",
        PageStatus.NotInDump => "the address is not in the dump (a hole or beyond physical memory)",
        PageStatus.Lost => "the page was lost (the dump is incomplete)",
        PageStatus.Corrupt => "the page's data in the dump is corrupt",
        _ => "the page is present",
    };
}

/// <summary>
/// Physical memory of the dumped machine. Every dump reader implements it; every layer above reads through it.
/// </summary>
public interface IPhysicalMemory
{
    int PageSize { get; }
    /// <summary>One past the highest page frame number the dump describes.</summary>
    ulong MaxPfn { get; }
    /// <summary>Reads one whole page into <paramref name="destination"/> (length ≥ PageSize) or says why not.</summary>
    PageStatus ReadPage(ulong pfn, Span<byte> destination);
    /// <summary>The status of a page without decompressing it.</summary>
    PageStatus GetPageStatus(ulong pfn);
}
