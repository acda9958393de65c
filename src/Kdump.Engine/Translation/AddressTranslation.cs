using Kdump.Engine;
namespace Kdump.Engine.Translation;

/// <summary>How an address was (or was not) resolved.</summary>
public enum TranslationStatus
{
    /// <summary>The page is mapped and resident.</summary>
    Mapped,
    /// <summary>A PROT_NONE mapping: not accessible, but it still names a physical page.</summary>
    ProtNone,
    /// <summary>The leaf entry holds a swap entry (type/offset).</summary>
    Swapped,
    /// <summary>No mapping: some level's entry is empty / not present.</summary>
    NotMapped,
}

/// <summary>The result of translating one address (vtop / ptov).</summary>
public sealed class AddressTranslation : Kdump.Engine.Model.DumpRecord
{
    public KernelAddress VirtualAddress { get; init; }
    /// <summary>The physical address, when the address maps a page (Mapped or ProtNone).</summary>
    public KernelAddress? PhysicalAddress { get; init; }
    public AddressSpace AddressSpace { get; init; }
    /// <summary>Size of the page that maps the address: 4096, 2 MiB or 1 GiB (0 when unmapped).</summary>
    public ulong PageSize { get; init; }
    public TranslationStatus Status { get; init; }
    /// <summary>True when the CPU could use the mapping (Mapped).</summary>
    public bool Present => Status == TranslationStatus.Mapped;
    /// <summary>The page-table entries read, top level first.</summary>
    public IReadOnlyList<PageTableLevel> Levels { get; init; } = Array.Empty<PageTableLevel>();
    /// <summary>Swap type (index into swap_info[]) of a swap entry; types ≥ 27 or so are migration/hwpoison entries.</summary>
    public uint? SwapType { get; init; }
    /// <summary>Swap offset, in pages, of a swap entry.</summary>
    public ulong? SwapOffset { get; init; }
    /// <summary>The physical address of the top-level table used (0 for physical/direct lookups).</summary>
    public KernelAddress PageTableRoot { get; init; }
    /// <summary>The swap device or file of a swapped page (swap_info[SwapType]->swap_file), when known.</summary>
    public string? SwapDevice { get; init; }
    /// <summary>The pid of the task whose address space was used (-Pid/-Task), or null.</summary>
    public int? Pid { get; init; }
    /// <summary>The task_struct whose address space was used (-Pid/-Task), or null.</summary>
    public KernelAddress? Task { get; init; }
    /// <summary>The task's memory area (vm_area_struct) that contains the address, when a task was given and one does.</summary>
    public Kdump.Engine.Model.CrashVmArea? Vma { get; init; }

    /// <summary>A copy with the context a caller knows beyond the page tables: the task, its area and the swap device.</summary>
    public AddressTranslation WithContext(int? pid, ulong? task, Kdump.Engine.Model.CrashVmArea? vma, string? swapDevice) => new()
    {
        VirtualAddress = VirtualAddress, PhysicalAddress = PhysicalAddress, AddressSpace = AddressSpace, PageSize = PageSize,
        Status = Status, Levels = Levels, SwapType = SwapType, SwapOffset = SwapOffset, PageTableRoot = PageTableRoot,
        SwapDevice = swapDevice ?? SwapDevice, Pid = pid ?? Pid, Task = task ?? Task, Vma = vma ?? Vma,
    };

    public override string ToString() => PhysicalAddress is { } p
        ? $"0x{VirtualAddress:x} -> 0x{p:x} ({Status}, page {PageSize})"
        : $"0x{VirtualAddress:x} -> {Status}";
}

/// <summary>
/// A translation that could not be completed. ErrorId: AddressNotMapped (no mapping), PageExcluded (a page-table
/// page was filtered out of the dump), PageTableOutsideDump (a table points at memory the dump does not have),
/// PageTableLost/PageTableCorrupt, AddressNotCanonical.
/// </summary>
public sealed class AddressTranslationException : KdumpException
{
    public ulong Address { get; }
    public AddressSpace AddressSpace { get; }
    /// <summary>The entries read before the walk stopped.</summary>
    public IReadOnlyList<PageTableLevel> Levels { get; }

    public AddressTranslationException(string errorId, KdumpErrorKind kind, string message, ulong address, AddressSpace space, IReadOnlyList<PageTableLevel>? levels = null)
        : base(errorId, kind, message, address)
    {
        Address = address;
        AddressSpace = space;
        Levels = levels ?? Array.Empty<PageTableLevel>();
    }
}
