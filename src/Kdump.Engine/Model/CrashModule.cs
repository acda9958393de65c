using Kdump.Engine;
namespace Kdump.Engine.Model;

/// <summary>
/// A loaded kernel module (Get-CrashModule, crash's mod): the struct module, where its core image lives and, when a
/// module tree was searched, the .ko file that matches its name.
/// </summary>
public sealed class CrashModule : DumpRecord
{
    /// <summary>Module name as the kernel knows it (underscores, e.g. "virtio_pci").</summary>
    public string Name { get; init; } = "";
    /// <summary>Address of the struct module (crash's MODULE column).</summary>
    public KernelAddress Object { get; init; }
    /// <summary>Base of the core image: core_layout.base (before 6.4) or mem[MOD_TEXT].base (6.4 and later).</summary>
    public KernelAddress Base { get; init; }
    /// <summary>Bytes of the core image as crash prints them: core_layout.size, or the sum of the core mem[] regions.</summary>
    public ulong Size { get; init; }
    /// <summary>Bytes of executable text at <see cref="Base"/>.</summary>
    public ulong TextSize { get; init; }
    /// <summary>Init sections still loaded (normally 0 once the module has initialised).</summary>
    public ulong InitSize { get; init; }
    /// <summary>MODULE_STATE_LIVE, _COMING, _GOING or _UNFORMED.</summary>
    public string State { get; init; } = "";
    /// <summary>Reference count (refcnt), when the kernel has one.</summary>
    public int? ReferenceCount { get; init; }
    /// <summary>Number of kallsyms symbols the module keeps (mod->kallsyms->num_symtab).</summary>
    public int SymbolCount { get; init; }
    /// <summary>The matching .ko / .ko.xz / .ko.gz / .ko.zst found under -ModulePath, else null.</summary>
    public string? File { get; init; }
    /// <summary>Problem met reading this module (its fields are partial), else null.</summary>
    public string? Problem { get; init; }

    /// <summary>True when <paramref name="address"/> lies in the module's core image.</summary>
    public bool Contains(ulong address) => address >= Base && address - Base < Size;

    public override string ToString() => $"{Object:x16}  {Name,-22} {Base:x16} {Size,6}  {File ?? "(not loaded)"}";
}
