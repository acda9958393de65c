BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'VmcoreTestDump.ps1')
    $script:Dir = Join-Path ([IO.Path]::GetTempPath()) "kdump-arch-$PID"
    New-Item -ItemType Directory -Force $Dir | Out-Null
    # the synthetic x86_64 ELF vmcore with e_machine patched to EM_AARCH64 (183): an architecture with no registration
    $script:Arm = New-TestElfVmcore -Path (Join-Path $Dir 'arm64.elf')
    $bytes = [IO.File]::ReadAllBytes($Arm)
    [BitConverter]::GetBytes([uint16]183).CopyTo($bytes, 18)
    [IO.File]::WriteAllBytes($Arm, $bytes)
}
AfterAll {
    Get-Vmcore | Where-Object Path -like "$Dir*" | Close-Vmcore
    Remove-Item -Recurse -Force $Dir -ErrorAction SilentlyContinue
}

# Issue 11 item 3: kernel analysis goes through the architecture registry; a dump of an architecture that is not
# registered opens (its header and notes are readable) and the analysis cmdlets say why they cannot go on.
Describe 'Architecture of a dump' {
    Context 'an unregistered architecture' {
        It 'opens, and Get-Vmcore names its architecture' {
            $v = Open-Vmcore $Arm -Force
            $v.Architecture | Should -Be 'aarch64'
        }
        It '<Command> reports ArchitectureUnsupported instead of walking x86_64 page tables' -TestCases @(
            @{ Command = 'Get-CrashProcess' }
            @{ Command = 'Get-CrashSystem' }
            @{ Command = 'Get-CrashModule' }
        ) {
            $v = Open-Vmcore $Arm -Force
            $r = & $Command -Vmcore $v -ErrorVariable err -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'ArchitectureUnsupported,*'
            $err[0].Exception.Message | Should -Match 'aarch64'
            $err[0].Exception.Message | Should -Match 'x86_64'
        }
    }
}
