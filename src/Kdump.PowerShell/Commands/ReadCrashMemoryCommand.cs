using System.Buffers.Binary;
using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Dump;
using Kdump.Engine.Program;
using Kdump.Engine.Translation;

using Kdump.PowerShell.Completers;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Read-CrashMemory: reads kernel virtual memory (a positional address or -Address, like crash's rd), physical memory
/// (-PhysicalAddress, rd -p) or a symbol's memory
/// (-Symbol, rd symbol) and shows it like hexdump -C, or as words with -Width 8|16|32|64. An unreadable page is an
/// error (PageExcluded, PageNotInDump, PageLost, PageCorrupt, AddressNotMapped ...) with its address as target; the
/// readable bytes around it are still returned.
/// </summary>
[Cmdlet(VerbsCommunications.Read, "CrashMemory", DefaultParameterSetName = VirtualSet)]
[OutputType(typeof(CrashMemoryBlock), typeof(CrashMemoryWords))]
public sealed class ReadCrashMemoryCommand : VmcoreCommandBase
{
    public const int MaxLength = 64 << 20;
    private const string PhysicalSet = "Physical";
    private const string VirtualSet = "Virtual";
    private const string SymbolSet = "Symbol";

    /// <summary>A physical address (crash's rd -p); only by name, a positional address is kernel virtual.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PhysicalSet, ValueFromPipelineByPropertyName = true)]
    [AddressTransformation]
    public ulong PhysicalAddress { get; set; }

    /// <summary>A kernel virtual address (direct map, kernel image, vmalloc, modules, per-CPU areas); the positional address.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = VirtualSet, ValueFromPipelineByPropertyName = true)]
    [Alias("VirtualAddress")]
    [AddressTransformation]
    public ulong Address { get; set; }

    /// <summary>A kernel symbol whose memory to read.</summary>
    [Parameter(Mandatory = true, ParameterSetName = SymbolSet)]
    [ArgumentCompleter(typeof(SymbolCompleter))]
    public string Symbol { get; set; } = "";

    [Parameter(Position = 1)]
    [ValidateRange(1, MaxLength)]
    public int Length { get; set; } = 64;

    /// <summary>Number of words of -Width bits to read (bytes when -Width is not given); overrides -Length.</summary>
    [Parameter]
    [ValidateRange(1, MaxLength)]
    public int Count { get; set; }

    /// <summary>Show the memory as words of 8, 16, 32 or 64 bits (little-endian), like rd -8/-16/-32/-64.</summary>
    [Parameter]
    [ValidateSet("8", "16", "32", "64")]
    public int Width { get; set; }

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        int unit = Width == 0 ? 1 : Width / 8;
        long len = MyInvocation.BoundParameters.ContainsKey(nameof(Count)) ? (long)Count * unit : Length;
        if (len > MaxLength)
        {
            WriteKdumpError(new KdumpException("ReadSizeInvalid", KdumpErrorKind.InvalidArgument, $"{len} bytes is more than {MaxLength}.", len));
            return;
        }
        ulong addr;
        bool physical = ParameterSetName == PhysicalSet;
        KernelProgram? k = null;
        if (physical) addr = PhysicalAddress;
        else
        {
            if (!TryEngine(() => k = v.Kernel, v)) return;
            if (ParameterSetName == SymbolSet)
            {
                ulong a = 0;
                if (!TryEngine(() => a = k!.GetSymbol(Symbol).Address, Symbol)) return;
                addr = a;
            }
            else addr = Address;
        }
        if (addr + (ulong)len < addr)
        {
            WriteKdumpError(new KdumpException("AddressOutOfRange", KdumpErrorKind.InvalidArgument, $"0x{addr:x} + {len} bytes wraps around the address space.", addr));
            return;
        }
        ulong end = addr + (ulong)len;
        ulong ps = (ulong)v.PageSize;
        while (addr < end)
        {
            Cancellation.ThrowIfCancellationRequested();
            var buf = new byte[end - addr];
            int n = 0;
            Exception? fault = null;
            if (physical)
            {
                PageStatus st = PageStatus.Present;
                string? detail = null;
                if (!TryEngine(() => n = v.Dump.TryReadPhysical(addr, buf, out st, out detail), addr)) return;
                if (n < buf.Length) fault = new MemoryFaultException(addr + (ulong)n, st, "physical", detail);
            }
            else
            {
                // page by page through the page tables; stop at the first fault
                while (n < buf.Length)
                {
                    ulong a = addr + (ulong)n;
                    int chunk = (int)Math.Min((ulong)(buf.Length - n), ps - (a % ps));
                    try { k!.ReadVirtual(a, buf.AsSpan(n, chunk), AddressSpace.KernelVirtual); }
                    catch (KdumpException ex) { fault = ex; break; }
                    n += chunk;
                }
            }
            if (n > 0) Emit(addr, n == buf.Length ? buf : buf[..n], physical, k);
            addr += (ulong)n;
            if (addr >= end || fault is null) break;
            WriteKdumpError(fault, addr);
            addr = (addr / ps + 1) * ps; // go on after the unreadable page
        }
    }

    private void Emit(ulong address, byte[] bytes, bool physical, KernelProgram? k)
    {
        if (Width == 0)
        {
            WriteObject(new CrashMemoryBlock(address, bytes, physical ? "physical" : "virtual"));
            return;
        }
        int unit = Width / 8;
        int perRow = Math.Max(1, 16 / unit);
        for (int off = 0; off + unit <= bytes.Length; off += perRow * unit)
        {
            var vals = new List<ulong>(perRow);
            for (int i = 0; i < perRow && off + (i + 1) * unit <= bytes.Length; i++)
            {
                var s = bytes.AsSpan(off + i * unit, unit);
                vals.Add(unit switch { 1 => s[0], 2 => BinaryPrimitives.ReadUInt16LittleEndian(s), 4 => BinaryPrimitives.ReadUInt32LittleEndian(s), _ => BinaryPrimitives.ReadUInt64LittleEndian(s) });
            }
            ulong rowAddr = address + (ulong)off;
            string? sym = null;
            if (!physical && k is not null) { try { sym = k.Symbolize(rowAddr)?.ToString(); } catch (KdumpException) { } }
            WriteObject(new CrashMemoryWords { Address = rowAddr, AddressSpace = physical ? "physical" : "virtual", Width = Width, Values = vals, Symbol = sym });
        }
    }
}
