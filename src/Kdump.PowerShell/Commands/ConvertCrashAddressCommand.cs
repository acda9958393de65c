using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Program;
using Kdump.Engine.Translation;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Convert-CrashAddress: translates kernel or user virtual addresses to physical ones through the dump's page tables
/// (crash's vtop), or physical addresses to direct-map virtual ones with -Physical (ptov). Every page-table level is
/// reported; swapped-out and PROT_NONE pages are results, not errors.
/// </summary>
[Cmdlet(VerbsData.Convert, "CrashAddress", DefaultParameterSetName = KernelSet)]
[OutputType(typeof(AddressTranslation))]
public sealed class ConvertCrashAddressCommand : VmcoreCommandBase
{
    private const string KernelSet = "Kernel";
    private const string UserSet = "User";
    private const string PhysicalSet = "Physical";

    /// <summary>The addresses to translate.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("VirtualAddress")]
    [AddressTransformation]
    public ulong[] Address { get; set; } = Array.Empty<ulong>();

    /// <summary>A user address space: the page-table root (mm->pgd) as a kernel virtual address or a physical address.</summary>
    [Parameter(Mandatory = true, ParameterSetName = UserSet, ValueFromPipelineByPropertyName = true)]
    [AddressTransformation]
    public ulong Pgd { get; set; }

    /// <summary>The addresses are physical: return their direct-map kernel virtual addresses (ptov).</summary>
    [Parameter(Mandatory = true, ParameterSetName = PhysicalSet)]
    public SwitchParameter Physical { get; set; }

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        KernelProgram? k = null;
        if (!TryEngine(() => k = v.Kernel, v)) return;
        var tr = k!.Translator;
        AddressSpace space = AddressSpace.KernelVirtual;
        if (ParameterSetName == UserSet)
        {
            ulong root = Pgd;
            if (root >= 0xffff800000000000UL && !TryEngine(() => root = tr.ToPhysical(Pgd, AddressSpace.KernelVirtual), Pgd)) return;
            space = AddressSpace.UserVirtual(root);
        }
        foreach (var a in Address)
        {
            Cancellation.ThrowIfCancellationRequested();
            if (ParameterSetName == PhysicalSet)
            {
                TryEngine(() => WriteObject(new AddressTranslation
                {
                    VirtualAddress = tr.PhysicalToKernelVirtual(a), PhysicalAddress = a, AddressSpace = AddressSpace.KernelVirtual,
                    PageSize = (ulong)v.PageSize, Status = TranslationStatus.Mapped,
                }), a);
                continue;
            }
            TryEngine(() => WriteObject(tr.Translate(a, space)), a);
        }
    }
}
