using Kdump.Engine.Linux.Stack;
using Kdump.Engine.Translation;

namespace Kdump.Engine.Architectures.X86_64;

/// <summary>
/// x86_64: 4- or 5-level paging (<see cref="X86_64Translator"/>), struct user_regs_struct in NT_PRSTATUS, ORC /
/// frame-pointer unwinding (<see cref="Backtracer"/>).
/// </summary>
public static class X86_64Architecture
{
    /// <summary>EM_X86_64.</summary>
    public const ushort ElfMachine = 62;

    /// <summary>elf_prstatus.pr_reg on x86_64: struct user_regs_struct (arch/x86/include/asm/user_64.h).</summary>
    public static readonly IReadOnlyList<string> PrstatusRegisters = new[]
    {
        "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi",
        "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
    };

    public static ArchitectureDescriptor Descriptor { get; } = new()
    {
        Name = "x86_64",
        ElfMachines = new[] { ElfMachine },
        Aliases = new[] { "amd64", "x86-64" },
        RecognizesVmcoreInfo = vi => vi["SYMBOL(init_top_pgt)"] is not null || vi["SYMBOL(init_level4_pgt)"] is not null,
        PointerSize = 8,
        CreateTranslator = CreateTranslator,
        PrstatusRegisters = PrstatusRegisters,
        CreateBacktracer = (program, vmcore) => new Backtracer(program, vmcore),
    };

    private static IAddressTranslator CreateTranslator(ArchitectureContext c)
    {
        X86_64TranslatorOptions options;
        if (c.TranslatorOptions is X86_64TranslatorOptions given) options = given;
        else
        {
            if (c.TranslatorOptions is not null)
                throw new KdumpException("TranslatorOptionsInvalid", KdumpErrorKind.InvalidArgument,
                    $"x86_64 takes X86_64TranslatorOptions, not {c.TranslatorOptions.GetType().Name}.", c.TranslatorOptions.GetType().Name);
            options = X86_64Translator.OptionsFrom(c.VmcoreInfo, c.Cpus);
            if (c.VmcoreInfo is null || !c.VmcoreInfo.TryGetNumber("phys_base", out _)) options.PhysBase = c.DumpPhysBase ?? 0;
        }
        return new X86_64Translator(c.Physical, options, c.Symbols);
    }
}
