using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Stack;
using Kdump.Engine.Model;
using Kdump.Engine.Program;
using Kdump.Engine.Translation;

namespace Kdump.Engine.Architectures;

/// <summary>
/// Everything the engine needs to know about one CPU architecture, in one place (drgn's platform descriptor):
/// how to recognise its dumps (ELF e_machine, utsname machine, VMCOREINFO), how to translate its addresses, the
/// order of the general registers in its NT_PRSTATUS notes, and how to unwind its kernel stacks. Registered once in
/// <see cref="ArchitectureRegistry"/>; <see cref="KernelProgram"/> asks the registry for the dump's.
/// </summary>
public sealed class ArchitectureDescriptor
{
    /// <summary>Canonical name, as the dump readers report it ("x86_64", "aarch64").</summary>
    public required string Name { get; init; }
    /// <summary>ELF e_machine values of its vmcores (EM_X86_64 = 62).</summary>
    public IReadOnlyList<ushort> ElfMachines { get; init; } = Array.Empty<ushort>();
    /// <summary>Other spellings of the machine (utsname machine in kdump headers: "amd64" ...).</summary>
    public IReadOnlyList<string> Aliases { get; init; } = Array.Empty<string>();
    /// <summary>True when a VMCOREINFO (with no other machine information) is from this architecture; null: never guessed.</summary>
    public Func<VmcoreInfo, bool>? RecognizesVmcoreInfo { get; init; }
    /// <summary>Pointer size in bytes (the program reads pointers of this size).</summary>
    public int PointerSize { get; init; } = 8;
    /// <summary>Creates the address translator of a program over a dump of this architecture.</summary>
    public required Func<ArchitectureContext, IAddressTranslator> CreateTranslator { get; init; }
    /// <summary>Names of elf_prstatus.pr_reg's slots, in order (struct user_regs_struct / user_pt_regs).</summary>
    public IReadOnlyList<string> PrstatusRegisters { get; init; } = Array.Empty<string>();
    /// <summary>Creates the kernel stack unwinder (Get-CrashBacktrace); null when backtraces are not supported yet.</summary>
    public Func<KernelProgram, Vmcore?, IKernelBacktracer>? CreateBacktracer { get; init; }

    /// <summary>True when <paramref name="machine"/> (a reader's architecture string, alias or "elf-machine-N") names this architecture.</summary>
    public bool Matches(string machine)
    {
        if (string.Equals(machine, Name, StringComparison.OrdinalIgnoreCase)) return true;
        foreach (var a in Aliases) if (string.Equals(machine, a, StringComparison.OrdinalIgnoreCase)) return true;
        return machine.StartsWith(ElfMachinePrefix, StringComparison.Ordinal)
            && ushort.TryParse(machine.AsSpan(ElfMachinePrefix.Length), out var m) && ElfMachines.Contains(m);
    }

    /// <summary>How the ELF reader names a machine it has no name for ("elf-machine-4711").</summary>
    public const string ElfMachinePrefix = "elf-machine-";

    public override string ToString() => Name;
}

/// <summary>What a translator factory gets: the dump's physical memory and notes, symbol values, caller options.</summary>
public sealed class ArchitectureContext
{
    public required PhysicalReader Physical { get; init; }
    public VmcoreInfo? VmcoreInfo { get; init; }
    public IReadOnlyList<CpuState> Cpus { get; init; } = Array.Empty<CpuState>();
    /// <summary>Symbol values the translator may need (page_offset_base ...); the program itself.</summary>
    public required ISymbolValues Symbols { get; init; }
    /// <summary>phys_base from the dump header, for dumps whose VMCOREINFO lacks NUMBER(phys_base).</summary>
    public long? DumpPhysBase { get; init; }
    /// <summary>Architecture-specific options from the caller (e.g. <see cref="X86_64TranslatorOptions"/>), or null.</summary>
    public object? TranslatorOptions { get; init; }
}
