namespace Kdump.Engine.Translation;

/// <summary>
/// Virtual-to-physical translation for one architecture. Asks a <see cref="PhysicalReader"/> for pages only. Each
/// architecture's implementation is created by its <see cref="Architectures.ArchitectureDescriptor"/>.
/// </summary>
public interface IAddressTranslator
{
    /// <summary>"x86_64".</summary>
    string Architecture { get; }

    /// <summary>
    /// Walks the page tables for <paramref name="address"/> and reports every level. Unmapped, swapped and
    /// PROT_NONE addresses are results (see <see cref="AddressTranslation.Status"/>); a page-table page that cannot
    /// be read throws <see cref="AddressTranslationException"/> (PageExcluded, PageTableOutsideDump ...).
    /// </summary>
    AddressTranslation Translate(ulong address, AddressSpace space);

    /// <summary>The physical address behind a virtual address; throws AddressNotMapped / PageExcluded / ... when there is none.</summary>
    ulong ToPhysical(ulong address, AddressSpace space);

    /// <summary>Like <see cref="ToPhysical"/> without exceptions for unmapped addresses.</summary>
    bool TryToPhysical(ulong address, AddressSpace space, out ulong physical);

    /// <summary>ptov: the direct-map kernel virtual address of a physical address.</summary>
    ulong PhysicalToKernelVirtual(ulong physical);

    /// <summary>Physical address of the kernel's top-level page table (0 when unknown).</summary>
    ulong KernelPageTableRoot { get; }

    /// <summary>The base page size of the translation (4096 on x86_64; 4, 16 or 64 KiB on arm64).</summary>
    int PageSize { get; }

    /// <summary>True when the address lies in the kernel's half of the virtual address space (translated through the kernel's tables even when a task is given).</summary>
    bool IsKernelAddress(ulong address);

    /// <summary>Forgets cached translations (memory that can change: tests, live sources).</summary>
    void ClearCache();
}
