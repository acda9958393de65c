using System.Text;
using Kdump.Engine.Tests.Dwarf;

namespace Kdump.Engine.Tests.Vmlinux;

/// <summary>Builds small vmlinux-like ELF files: sections at kernel addresses, a symbol table, a build-id note,
/// linux_banner in .rodata, and optionally DWARF and .BTF.</summary>
public static class SampleVmlinux
{
    public const ulong Text = 0xffffffff81000000, Rodata = 0xffffffff82000000, Data = 0xffffffff82800000, Bss = 0xffffffff83000000;
    public const ulong BannerAddress = Rodata + 0x100;
    public static readonly byte[] DefaultBuildId = Convert.FromHexString("6a2b4ac77585b8cf102cba771300e573c8489b69");

    public static string BannerOf(string release) =>
        $"Linux version {release} (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)\n";

    public static ElfWriter Writer(string release = "6.1.0-18-amd64", byte[]? buildId = null, bool symbols = true, bool dwarf = true,
        bool btf = false, bool rodataContents = true)
    {
        var e = new ElfWriter();
        e.Add(".text", new byte[0x200], ElfWriter.ShtProgbits, ElfWriter.ShfAlloc | ElfWriter.ShfExec, Text);
        var ro = new byte[0x400];
        Encoding.ASCII.GetBytes("Linux version %s (%s)\n").CopyTo(ro, 0x20); // a format string must not be taken for the banner
        Encoding.ASCII.GetBytes(BannerOf(release)).CopyTo(ro, 0x100);
        var r = e.Add(".rodata", ro, rodataContents ? ElfWriter.ShtProgbits : ElfWriter.ShtNobits, ElfWriter.ShfAlloc, Rodata);
        if (!rodataContents) r.NoBitsSize = (ulong)ro.Length;
        e.Add(".data", new byte[0x100], ElfWriter.ShtProgbits, ElfWriter.ShfAlloc | ElfWriter.ShfWrite, Data);
        var bss = e.Add(".bss", [], ElfWriter.ShtNobits, ElfWriter.ShfAlloc | ElfWriter.ShfWrite, Bss);
        bss.NoBitsSize = 0x1000;
        e.Add(".data..percpu", new byte[0x80], ElfWriter.ShtProgbits, ElfWriter.ShfAlloc | ElfWriter.ShfWrite, 0);
        e.BuildIdNote(buildId ?? DefaultBuildId);
        if (dwarf)
        {
            var (info, abbrev, str, _) = SampleDwarf.Build(5);
            e.Add(".debug_info", info); e.Add(".debug_abbrev", abbrev); e.Add(".debug_str", str);
        }
        if (btf)
        {
            var b = new BtfBuilder();
            int u32 = b.Int("unsigned int", 4);
            b.Struct("node", 8, ("id", u32, 0, 0), ("flags", u32, 32, 0));
            e.Add(".BTF", b.Build(), ElfWriter.ShtProgbits, ElfWriter.ShfAlloc, Rodata + 0x1000);
        }
        if (symbols)
        {
            const byte Local = 0, Global = 1, Weak = 2, NoType = 0, Object = 1, Func = 2, Section = 3, File = 4;
            e.Symbol("", 0, 0, Local, Section, ".text");
            e.Symbol("main.c", 0, 0, Local, File, "*ABS*");
            e.Symbol("_stext", Text, 0, Global, NoType, ".text");
            e.Symbol("start_kernel", Text + 0x40, 0x80, Global, Func, ".text");
            e.Symbol("helper", Text + 0xc0, 0x20, Local, Func, ".text");
            e.Symbol("weak_hook", Text + 0x100, 0x10, Weak, Func, ".text");
            e.Symbol("linux_banner", BannerAddress, (ulong)BannerOf(release).Length + 1, Global, Object, ".rodata");
            e.Symbol("init_task", Data + 0x40, 0x80, Global, Object, ".data");
            e.Symbol("jiffies_64", Bss + 0x10, 8, Global, Object, ".bss");
            e.Symbol("runqueues", 0x40, 0x40, Global, Object, ".data..percpu");
            e.Symbol("phys_startup_64", 0x1000000, 0, Global, NoType, "*ABS*");
            e.Symbol("undefined_ref", 0, 0, Global, NoType, "");
        }
        return e;
    }

    public static string Write(ElfWriter w, string? dir = null, string name = "vmlinux") => w.WriteTemp(dir, name);
}
