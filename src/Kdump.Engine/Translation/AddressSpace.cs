namespace Kdump.Engine.Translation;

public enum AddressSpaceKind
{
    /// <summary>Physical memory as the dump describes it.</summary>
    Physical,
    /// <summary>The kernel's virtual address space (swapper page tables / init_top_pgt).</summary>
    KernelVirtual,
    /// <summary>A process's virtual address space, given by the physical address of its top page table (mm->pgd).</summary>
    UserVirtual,
}

/// <summary>
/// An explicit address space: physical, kernel virtual, or the user space of one page-table root. Translation never
/// guesses which space an address belongs to.
/// </summary>
public readonly record struct AddressSpace(AddressSpaceKind Kind, ulong PageTableRoot)
{
    public static AddressSpace Physical => new(AddressSpaceKind.Physical, 0);
    public static AddressSpace KernelVirtual => new(AddressSpaceKind.KernelVirtual, 0);
    /// <summary>The user address space whose top-level page table is at physical address <paramref name="pgdPhysical"/>.</summary>
    public static AddressSpace UserVirtual(ulong pgdPhysical) => new(AddressSpaceKind.UserVirtual, pgdPhysical);

    public override string ToString() => Kind switch
    {
        AddressSpaceKind.Physical => "Physical",
        AddressSpaceKind.KernelVirtual => "KernelVirtual",
        _ => $"UserVirtual(pgd=0x{PageTableRoot:x})",
    };
}

/// <summary>
/// The values translation needs from symbols (page_offset_base, vmalloc_base, init_top_pgt ...). Supplied by the
/// program hub from VMCOREINFO and the symbol finders; translation never parses files itself.
/// </summary>
public interface ISymbolValues
{
    /// <summary>The (KASLR-relocated) address of a kernel symbol, or false when unknown.</summary>
    bool TryGetSymbolAddress(string name, out ulong address);
}

/// <summary>An <see cref="ISymbolValues"/> over a delegate.</summary>
public sealed class DelegateSymbolValues : ISymbolValues
{
    private readonly Func<string, ulong?> _lookup;
    public DelegateSymbolValues(Func<string, ulong?> lookup) => _lookup = lookup;
    public bool TryGetSymbolAddress(string name, out ulong address)
    {
        var v = _lookup(name);
        address = v ?? 0;
        return v.HasValue;
    }
    public static readonly ISymbolValues None = new DelegateSymbolValues(_ => null);
}

/// <summary>Reads kernel virtual memory (the program hub implements it over translation + physical reads).</summary>
public interface IKernelMemory
{
    /// <summary>Fills <paramref name="destination"/> from kernel virtual address <paramref name="address"/> or throws
    /// (<see cref="AddressTranslationException"/>, <see cref="Kdump.Engine.Dump.MemoryFaultException"/>).</summary>
    void ReadKernel(ulong address, Span<byte> destination);
}
