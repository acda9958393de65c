using System.Text;

namespace Kdump.Engine.Dump;

/// <summary>
/// Parses an ELF note area (namesz, descsz, type, name, desc; 4-byte aligned) into notes, CPU register sets
/// (NT_PRSTATUS, QEMU's "QEMU" CPU state) and VMCOREINFO.
/// </summary>
internal static class ElfNotes
{
    public const uint NtPrstatus = 1;
    public const uint NtPrfpreg = 2;
    public const uint NtPrpsinfo = 3;
    public const uint NtTaskstruct = 4;
    public const uint NtAuxv = 6;

    internal readonly record struct RawNote(string Name, uint Type, ReadOnlyMemory<byte> Desc);

    private static readonly string[] Aarch64Regs = Enumerable.Range(0, 31).Select(i => $"x{i}").Concat(new[] { "sp", "pc", "pstate" }).ToArray();

    public static List<RawNote> Parse(ReadOnlyMemory<byte> area, bool bigEndian, int maxNotes, string path)
    {
        var notes = new List<RawNote>();
        var s = area.Span;
        int pos = 0;
        while (pos + 12 <= s.Length)
        {
            uint namesz = Bin.U32(s, pos, bigEndian), descsz = Bin.U32(s, pos + 4, bigEndian), type = Bin.U32(s, pos + 8, bigEndian);
            if (namesz == 0 && descsz == 0 && type == 0) break; // padding / unused crash_notes
            long nameEnd = pos + 12L + Align4(namesz);
            long descEnd = nameEnd + Align4(descsz);
            if (namesz > 4096 || nameEnd > s.Length || descsz > (uint)s.Length || nameEnd + descsz > s.Length)
                throw DumpErrors.Corrupt(path, "note header", $"at note offset {pos} declares name size {namesz} and descriptor size {descsz}, past the end of the {s.Length}-byte note area");
            if (notes.Count >= maxNotes)
                throw DumpErrors.Limit(path, "notes", $"holds more than {maxNotes} notes");
            var name = Bin.CString(s.Slice(pos + 12, (int)namesz));
            notes.Add(new RawNote(name, type, area.Slice((int)nameEnd, (int)descsz)));
            pos = (int)Math.Min(descEnd, s.Length);
        }
        return notes;
    }

    private static long Align4(uint v) => (v + 3L) & ~3L;

    public static string TypeName(string name, uint type) => (name, type) switch
    {
        ("CORE", NtPrstatus) => "NT_PRSTATUS",
        ("CORE", NtPrfpreg) => "NT_PRFPREG",
        ("CORE", NtPrpsinfo) => "NT_PRPSINFO",
        ("CORE", NtTaskstruct) => "NT_TASKSTRUCT",
        ("CORE", NtAuxv) => "NT_AUXV",
        ("VMCOREINFO", 0) => "VMCOREINFO",
        ("QEMU", 0) => "QEMU_CPUSTATE",
        ("LINUX", 0x202) => "NT_X86_XSTATE",
        _ => $"0x{type:x}",
    };

    /// <summary>Fills notes, CPU states and VMCOREINFO of <paramref name="info"/> from a parsed note area.</summary>
    public static void Interpret(List<RawNote> notes, DumpHeaderInfo info, string origin, int maxVmcoreInfo)
    {
        var prstatus = new List<(int? pid, Dictionary<string, ulong> regs)>();
        var qemu = new List<ReadOnlyMemory<byte>>();
        bool be = info.BigEndian;
        foreach (var n in notes)
        {
            info.RawNotes.Add((n.Name, n.Type, n.Desc.ToArray()));
            info.Notes.Add(new DumpNote { Name = n.Name, Type = n.Type, Size = n.Desc.Length, TypeName = TypeName(n.Name, n.Type) });
            if (n.Name == "CORE" && n.Type == NtPrstatus) prstatus.Add(ParsePrstatus(n.Desc.Span, be, info.Is64Bit, info.Architecture));
            else if (n.Name == "QEMU" && n.Type == 0) qemu.Add(n.Desc);
            else if (n.Name == "VMCOREINFO" && info.VmcoreInfo is null && n.Desc.Length <= maxVmcoreInfo)
                info.VmcoreInfo = new VmcoreInfo(Encoding.ASCII.GetString(TrimNul(n.Desc.Span)), origin);
        }
        int count = Math.Max(prstatus.Count, qemu.Count);
        for (int i = 0; i < count; i++)
        {
            var regs = i < prstatus.Count ? prstatus[i].regs : new Dictionary<string, ulong>();
            int? pid = i < prstatus.Count ? prstatus[i].pid : null;
            ulong? cr0 = null, cr3 = null, cr4 = null, kgs = null, gs = null;
            if (i < qemu.Count && TryParseQemuCpuState(qemu[i].Span, be, out var q))
            {
                (cr0, cr3, cr4, kgs, gs) = (q.cr0, q.cr3, q.cr4, q.kgs, q.gsBase);
                if (regs.Count == 0) regs = q.regs;
            }
            else if (regs.TryGetValue("gs_base", out var g)) gs = g;
            info.Cpus.Add(new CpuState { Cpu = i, Pid = pid, Registers = regs, Cr0 = cr0, Cr3 = cr3, Cr4 = cr4, KernelGsBase = kgs, GsBase = gs });
        }
    }

    private static ReadOnlySpan<byte> TrimNul(ReadOnlySpan<byte> s)
    {
        int n = s.IndexOf((byte)0);
        return n < 0 ? s : s[..n];
    }

    /// <summary>elf_prstatus: 64-bit layout has pr_pid at 32 and pr_reg at 112; 32-bit (i386) pr_pid at 24, pr_reg at 72.</summary>
    internal static (int? pid, Dictionary<string, ulong> regs) ParsePrstatus(ReadOnlySpan<byte> d, bool be, bool is64, string? arch)
    {
        var regs = new Dictionary<string, ulong>(StringComparer.Ordinal);
        int pidOff = is64 ? 32 : 24, regOff = is64 ? 112 : 72, w = is64 ? 8 : 4;
        int? pid = d.Length >= pidOff + 4 ? Bin.I32(d, pidOff, be) : null;
        // the register layout belongs to the architecture (its descriptor in the registry)
        IReadOnlyList<string>? names = Architectures.ArchitectureRegistry.Default.Find(arch)?.PrstatusRegisters ?? (arch == "aarch64" ? Aarch64Regs : null);
        int avail = Math.Max(0, (d.Length - regOff) / w);
        int count = names is not null ? Math.Min(names.Count, avail) : 0;
        for (int i = 0; i < count; i++) regs[names![i]] = Bin.ULong(d, regOff + i * w, be, is64);
        return (pid, regs);
    }

    /// <summary>
    /// QEMUCPUState (x86_64): u32 version, size; rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags (offset 8);
    /// 10 segments cs ds es fs gs ss ldt tr gdt idt of {u32 selector, limit, flags, pad; u64 base} (offset 152);
    /// u64 cr[5] (offset 392); u64 kernel_gs_base (offset 432).
    /// </summary>
    internal static bool TryParseQemuCpuState(ReadOnlySpan<byte> d, bool be,
        out (Dictionary<string, ulong> regs, ulong cr0, ulong cr3, ulong cr4, ulong kgs, ulong gsBase) state)
    {
        state = default;
        if (d.Length < 440) return false;
        string[] gp = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags" };
        var regs = new Dictionary<string, ulong>(StringComparer.Ordinal);
        for (int i = 0; i < gp.Length; i++) regs[gp[i]] = Bin.U64(d, 8 + i * 8, be);
        string[] segs = { "cs", "ds", "es", "fs", "gs", "ss" };
        for (int i = 0; i < segs.Length; i++) regs[segs[i]] = Bin.U32(d, 152 + i * 24, be);
        regs["fs_base"] = Bin.U64(d, 152 + 3 * 24 + 16, be);
        regs["gs_base"] = Bin.U64(d, 152 + 4 * 24 + 16, be);
        state = (regs, Bin.U64(d, 392, be), Bin.U64(d, 392 + 24, be), Bin.U64(d, 392 + 32, be), Bin.U64(d, 432, be), regs["gs_base"]);
        return true;
    }
}
